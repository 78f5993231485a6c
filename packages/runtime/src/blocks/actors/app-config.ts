/**
 * The app's actor configuration (`GET /dapr/config`, dapr `pkg/config/app_configuration.go`), resolved
 * per actor type: an `entitiesConfig` entry replaces the top-level settings for the types it lists,
 * and what it leaves out takes daprd's defaults, not the top-level values (`TranslateEntityConfig`).
 */
import { parseGoDurationMs } from './durations.js';

/** Dapr's defaults (`pkg/actors/api/config.go`). */
export const DEFAULT_IDLE_TIMEOUT_MS = 60 * 60_000;
export const DEFAULT_DRAIN_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_STACK_DEPTH = 32;

/** The settings of one actor type. */
export interface ActorTypeConfig {
  idleTimeoutMs: number;
  /** How long a halted actor's ongoing call may finish before the deactivation. @default 60s */
  drainOngoingCallTimeoutMs: number;
  /** Wait for the ongoing call (up to the timeout) when the actor moves away or the sidecar stops. @default false */
  drainRebalancedActors: boolean;
  reentrancy: { enabled: boolean; maxStackDepth: number };
}

/** What the app declared. */
export interface AppActorConfig {
  /** Actor types the app hosts. */
  entities: string[];
  /** Settings per hosted type. */
  types: Map<string, ActorTypeConfig>;
  /** Problems found (ignored values), for the log. */
  warnings: string[];
}

type Json = Record<string, unknown>;

function resolve(raw: Json, base: ActorTypeConfig | undefined, warnings: string[]): ActorTypeConfig {
  const duration = (field: string, fallback: number) => {
    const value = raw[field];
    if (typeof value !== 'string' || value === '') return fallback;
    const ms = parseGoDurationMs(value);
    if (ms === undefined) {
      warnings.push(`invalid ${field} "${value}" in the app's /dapr/config; using ${fallback}ms`);
      return fallback;
    }
    return ms;
  };
  const reentrancy = (raw['reentrancy'] ?? {}) as Json;
  const depth = reentrancy['maxStackDepth'];
  return {
    idleTimeoutMs: duration('actorIdleTimeout', base?.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS),
    drainOngoingCallTimeoutMs: duration('drainOngoingCallTimeout', base?.drainOngoingCallTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS),
    drainRebalancedActors: typeof raw['drainRebalancedActors'] === 'boolean' ? raw['drainRebalancedActors'] : (base?.drainRebalancedActors ?? false),
    reentrancy: {
      enabled: typeof reentrancy['enabled'] === 'boolean' ? reentrancy['enabled'] : (base?.reentrancy.enabled ?? false),
      maxStackDepth: typeof depth === 'number' && Number.isInteger(depth) ? depth : (base?.reentrancy.maxStackDepth ?? DEFAULT_MAX_STACK_DEPTH),
    },
  };
}

/** Parses the body of `GET /dapr/config`; a body that is not a JSON object hosts no actors. */
export function parseAppActorConfig(body: unknown): AppActorConfig {
  const warnings: string[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { entities: [], types: new Map(), warnings };
  const raw = body as Json;
  const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '') : []);
  const entities = strings(raw['entities']);
  const top = resolve(raw, undefined, warnings);
  const types = new Map<string, ActorTypeConfig>(entities.map((t) => [t, top]));
  const perEntity = Array.isArray(raw['entitiesConfig']) ? (raw['entitiesConfig'] as unknown[]) : [];
  for (const entry of perEntity) {
    if (typeof entry !== 'object' || entry === null) continue;
    const config = resolve(entry as Json, undefined, warnings);
    for (const type of strings((entry as Json)['entities'])) {
      if (!types.has(type)) warnings.push(`entitiesConfig names actor type "${type}", which is not among the app's entities`);
      else types.set(type, config);
    }
  }
  return { entities, types, warnings };
}
