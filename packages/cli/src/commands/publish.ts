/**
 * `weft publish`: publishes one event through a running sidecar, as `dapr publish` does. The sidecar
 * is the publishing app's, found by `--publish-app-id` in the local registry; `--dapr-http-port` (or
 * `DAPR_HTTP_PORT`) names one explicitly. Its app id must match `--publish-app-id` so an event never
 * goes out under the wrong app's scopes.
 */
import fs from 'node:fs/promises';
import { Command, Option } from 'commander';
import { findRunningApp } from '../find-app.js';

/** Flags of `weft publish`. */
export interface PublishFlags {
  publishAppId: string;
  /** Alias of `publishAppId`. */
  appId?: string;
  pubsub: string;
  topic: string;
  data?: string;
  dataFile?: string;
  metadata?: string;
  daprHttpPort?: string;
}

/** Builds the request URL and body; throws with a message naming the bad flag. */
export async function buildPublishRequest(flags: PublishFlags, env: NodeJS.ProcessEnv): Promise<{ url: string; body: string; port: number }> {
  if (flags.data !== undefined && flags.dataFile !== undefined) throw new Error('use either --data or --data-file, not both');
  const body = flags.dataFile !== undefined ? await fs.readFile(flags.dataFile, 'utf8') : (flags.data ?? '');
  if (body !== '') {
    try {
      JSON.parse(body);
    } catch {
      throw new Error('--data/--data-file must be JSON');
    }
  }
  const explicit = flags.daprHttpPort ?? env['DAPR_HTTP_PORT'];
  const port = explicit !== undefined ? Number(explicit) : (await findRunningApp(flags.publishAppId, env, 'Or pass --dapr-http-port')).httpPort;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`--dapr-http-port: expected a port number, got "${flags.daprHttpPort}"`);
  const query = new URLSearchParams();
  if (flags.metadata !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(flags.metadata);
    } catch {
      throw new Error('--metadata must be a JSON object, e.g. \'{"ttlInSeconds":"60"}\'');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('--metadata must be a JSON object');
    for (const [k, v] of Object.entries(parsed)) query.set(`metadata.${k}`, String(v));
  }
  const qs = query.toString();
  const url = `http://127.0.0.1:${port}/v1.0/publish/${encodeURIComponent(flags.pubsub)}/${flags.topic}${qs ? `?${qs}` : ''}`;
  return { url, body, port };
}

/** Publishes; resolves with the exit code. */
export async function publishEvent(flags: PublishFlags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { url, body, port } = await buildPublishRequest(flags, env);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (env['DAPR_API_TOKEN']) headers['dapr-api-token'] = env['DAPR_API_TOKEN'];
  let meta: { id?: string };
  try {
    meta = (await (await fetch(`http://127.0.0.1:${port}/v1.0/metadata`, { headers })).json()) as { id?: string };
  } catch (err) {
    throw new Error(`no sidecar answers on port ${port} (${(err as Error).message}); start the app with weft run, or pass --dapr-http-port`);
  }
  if (meta.id !== flags.publishAppId) throw new Error(`the sidecar on port ${port} belongs to app "${meta.id ?? '?'}", not "${flags.publishAppId}"`);
  const res = await fetch(url, { method: 'POST', body, headers });
  if (res.status === 204) {
    console.log('Event published successfully');
    return 0;
  }
  const text = await res.text();
  console.error(`publish failed (HTTP ${res.status}): ${text}`);
  return 1;
}

/** The `publish` command. */
export function publishCommand(): Command {
  return new Command('publish')
    .description('publish an event to a topic through a running sidecar')
    .option('--publish-app-id <id>', 'the app whose sidecar publishes (required)')
    .addOption(new Option('--app-id <id>', 'alias of --publish-app-id').hideHelp())
    .requiredOption('--pubsub <name>', 'the pub/sub component')
    .requiredOption('--topic <topic>', 'the topic')
    .option('--data <json>', 'the event data (JSON)')
    .option('--data-file <path>', 'a file holding the event data (JSON)')
    .option('--metadata <json>', 'request metadata as a JSON object, e.g. {"ttlInSeconds":"60"}')
    .option('--dapr-http-port <port>', "the sidecar's HTTP port (default: DAPR_HTTP_PORT, else the app's sidecar from the local registry)")
    .action(async (flags: Omit<PublishFlags, 'publishAppId'> & { publishAppId?: string }) => {
      const publishAppId = flags.publishAppId ?? flags.appId;
      if (!publishAppId) throw new Error("required option '--publish-app-id <id>' not specified");
      process.exitCode = await publishEvent({ ...flags, publishAppId });
    });
}
