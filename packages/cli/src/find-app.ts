/**
 * Finding a running app's sidecar by app id, as the Dapr CLI does: through the local registry every
 * `weft run`/`weft sidecar` writes itself into. An unknown app id is an error that lists the running
 * ones, never a silent fallback.
 */
import { listRegistry, registryDir } from '@weft/runtime';
import type { RegistryEntry } from '@weft/runtime';

/** The registry entry of the running app `appId`; throws, listing the running apps, when there is none. */
export async function findRunningApp(appId: string, env: NodeJS.ProcessEnv = process.env, hint = ''): Promise<RegistryEntry> {
  const entries = await listRegistry(registryDir(env));
  const entry = entries.find((e) => e.appId === appId);
  if (entry) return entry;
  const running = [...new Set(entries.map((e) => e.appId))].sort();
  const list = running.length > 0 ? `running apps: ${running.join(', ')}` : 'no app is running (start one with weft run)';
  throw new Error(`app "${appId}" is not running; ${list}${hint ? `. ${hint}` : ''}`);
}

/** Headers every call to a sidecar carries (its API token, when one is set). */
export function sidecarHeaders(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return env['DAPR_API_TOKEN'] ? { 'dapr-api-token': env['DAPR_API_TOKEN'] } : {};
}
