/**
 * The engine's tunables (pub/sub delivery retries, workflow leases, limits, retention, stuck detection)
 * as one validated object, instead of `WEFT_*` variables read wherever they are used. Each setting has
 * one entry in {@link ENGINE_SETTINGS}: its flag, its environment variable (the names Weft always
 * read), where the Configuration resource sets it (if Dapr has a field for it), its grammar and its
 * default. Layers, strongest first: flag, environment, Configuration, default. A value that does not
 * parse stops start-up with an {@link EngineSettingError} naming the setting and where it came from.
 */
import type { WeftConfiguration } from './configuration.js';
import { DurationError, parseDuration } from '../util/duration.js';

/** Every engine setting, resolved. Unset optional ones leave the engine's own default. */
export interface EngineSettings {
  /** Pub/sub delivery retries after the first attempt. @default 5 */
  pubsubMaxRetries: number;
  /** First pub/sub retry backoff, doubled per retry. @default 500 */
  pubsubRetryIntervalMs: number;
  /** Pub/sub backoff cap. @default 5000 (at least the first interval) */
  pubsubRetryMaxIntervalMs: number;
  /** How long the app may take to answer one delivery. @default 60000 */
  pubsubDeliveryTimeoutMs: number;
  /** Lease on a workflow instance or activity task, in milliseconds. */
  workflowLeaseMs?: number | undefined;
  /** Orchestration work items in flight per sidecar. */
  workflowMaxConcurrentOrchestrations?: number | undefined;
  /** Activity work items in flight per sidecar. */
  workflowMaxConcurrentActivities?: number | undefined;
  /** The largest work item sent to a workflow worker; a larger one fails its instance or activity. @default 128 MiB */
  workflowMaxWorkItemBytes?: number | undefined;
  /** Finished instances older than this are purged; kept forever when unset. */
  workflowRetentionMs?: number | undefined;
  /** A work item a live worker leaves unanswered this long is dispatched again. @default 60s */
  workflowRedeliverAfterMs?: number | undefined;
  /** An instance with work waiting and no progress this long is flagged stuck. @default 5m */
  workflowStuckAfterMs?: number | undefined;
  /** Named debug points armed for crash tests (`name:action,...`). */
  debugPoints?: string | undefined;
}

type Kind = 'count' | 'positive-int' | 'duration' | 'duration-or-ms' | 'text';

/** One setting's sources and grammar. */
export interface EngineSettingSpec {
  key: keyof EngineSettings;
  /** The command-line flag, without `--`. */
  flag: string;
  /** The environment variable. */
  env: string;
  /** The Configuration field that sets it, if Dapr has one. */
  configuration?: string;
  kind: Kind;
  /** Shown in `--help`. */
  description: string;
  /** The default as shown in `--help`. */
  defaultText?: string;
  /** Internal settings (crash tests) are left out of `--help`. */
  hidden?: boolean;
}

/** The table of settings, in the order `--help` prints them. */
export const ENGINE_SETTINGS: readonly EngineSettingSpec[] = [
  { key: 'pubsubMaxRetries', flag: 'pubsub-max-retries', env: 'WEFT_PUBSUB_MAX_RETRIES', kind: 'count', description: 'pub/sub delivery retries after the first attempt, then dead-letter or back to the broker', defaultText: '5' },
  { key: 'pubsubRetryIntervalMs', flag: 'pubsub-retry-interval', env: 'WEFT_PUBSUB_RETRY_INTERVAL', kind: 'duration', description: 'first pub/sub retry backoff, doubled per retry', defaultText: '500ms' },
  { key: 'pubsubRetryMaxIntervalMs', flag: 'pubsub-retry-max-interval', env: 'WEFT_PUBSUB_RETRY_MAX_INTERVAL', kind: 'duration', description: 'pub/sub retry backoff cap', defaultText: '5s' },
  { key: 'pubsubDeliveryTimeoutMs', flag: 'pubsub-delivery-timeout', env: 'WEFT_PUBSUB_DELIVERY_TIMEOUT', kind: 'duration', description: 'how long the app may take to answer one pub/sub delivery', defaultText: '1m' },
  { key: 'workflowLeaseMs', flag: 'workflow-lease-ms', env: 'WEFT_WORKFLOW_LEASE_MS', kind: 'positive-int', description: 'lease on a workflow instance or activity task, in milliseconds', defaultText: '30000' },
  {
    key: 'workflowMaxConcurrentOrchestrations',
    flag: 'workflow-max-concurrent-orchestrations',
    env: 'WEFT_WORKFLOW_MAX_CONCURRENT_ORCHESTRATIONS',
    configuration: 'spec.workflow.maxConcurrentWorkflowInvocations',
    kind: 'positive-int',
    description: 'orchestration work items in flight per sidecar',
  },
  {
    key: 'workflowMaxConcurrentActivities',
    flag: 'workflow-max-concurrent-activities',
    env: 'WEFT_WORKFLOW_MAX_CONCURRENT_ACTIVITIES',
    configuration: 'spec.workflow.maxConcurrentActivityInvocations',
    kind: 'positive-int',
    description: 'activity work items in flight per sidecar',
  },
  {
    key: 'workflowMaxWorkItemBytes',
    flag: 'workflow-max-work-item-bytes',
    env: 'WEFT_WORKFLOW_MAX_WORK_ITEM_BYTES',
    kind: 'positive-int',
    description: 'largest work item sent to a workflow worker, in bytes (what @dapr/dapr workers receive); a larger one fails its workflow',
    defaultText: '134217728',
  },
  {
    key: 'workflowRetentionMs',
    flag: 'workflow-retention',
    env: 'WEFT_WORKFLOW_RETENTION',
    configuration: 'spec.workflow.stateRetentionPolicy.anyTerminal',
    kind: 'duration-or-ms',
    description: 'purge finished workflow instances older than this (e.g. 7d)',
    defaultText: 'keep',
  },
  { key: 'workflowRedeliverAfterMs', flag: 'workflow-redeliver-after', env: 'WEFT_WORKFLOW_REDELIVER_AFTER', kind: 'duration', description: 'dispatch a work item again when a live worker leaves it unanswered this long', defaultText: '1m' },
  { key: 'workflowStuckAfterMs', flag: 'workflow-stuck-after', env: 'WEFT_WORKFLOW_STUCK_AFTER', kind: 'duration', description: 'flag an instance stuck after this long with work waiting and no progress', defaultText: '5m' },
  { key: 'debugPoints', flag: 'debug-points', env: 'WEFT_DEBUG_POINTS', kind: 'text', description: 'debug points armed for crash tests', hidden: true },
];

/** Raised for a setting whose value does not parse; the message names the setting and its source. */
export class EngineSettingError extends Error {
  constructor(
    /** The setting as its source spells it (`--workflow-retention`, `WEFT_WORKFLOW_RETENTION`, a Configuration field). */
    readonly setting: string,
    detail: string,
  ) {
    super(`invalid setting ${setting}: ${detail}`);
    this.name = 'EngineSettingError';
  }
}

/** Where settings come from. */
export interface EngineSettingSources {
  /** Flag values by setting key (the CLI fills these); strongest. */
  flags?: Partial<Record<keyof EngineSettings, string | undefined>> | undefined;
  /** The environment (the `WEFT_*` names). */
  env: Readonly<Record<string, string | undefined>>;
  /** The `--config` Configuration, for the settings Dapr's Configuration has fields for. */
  configuration?: Pick<WeftConfiguration, 'spec'> | undefined;
}

const DEFAULTS = { pubsubMaxRetries: 5, pubsubRetryIntervalMs: 500, pubsubRetryMaxIntervalMs: 5000, pubsubDeliveryTimeoutMs: 60_000 } as const;

function fromConfiguration(spec: EngineSettingSpec, configuration: EngineSettingSources['configuration']): string | undefined {
  const workflow = configuration?.spec.workflow;
  if (!workflow) return undefined;
  switch (spec.key) {
    case 'workflowMaxConcurrentOrchestrations':
      return workflow.maxConcurrentWorkflowInvocations === undefined ? undefined : String(workflow.maxConcurrentWorkflowInvocations);
    case 'workflowMaxConcurrentActivities':
      return workflow.maxConcurrentActivityInvocations === undefined ? undefined : String(workflow.maxConcurrentActivityInvocations);
    case 'workflowRetentionMs':
      return workflow.stateRetentionPolicy?.['anyTerminal'];
    default:
      return undefined;
  }
}

function parseValue(spec: EngineSettingSpec, name: string, raw: string): number | string {
  const text = raw.trim();
  switch (spec.kind) {
    case 'text':
      return text;
    case 'count':
    case 'positive-int': {
      const n = Number(text);
      const min = spec.kind === 'count' ? 0 : 1;
      if (text === '' || !Number.isInteger(n) || n < min) throw new EngineSettingError(name, `expected ${min === 0 ? 'a whole number (0 or more)' : 'a positive whole number'}, got "${raw}"`);
      return n;
    }
    case 'duration':
    case 'duration-or-ms':
      try {
        return parseDuration(name, text, { positive: true, ...(spec.kind === 'duration-or-ms' ? { bareUnitMs: 1 } : {}) });
      } catch (err) {
        if (err instanceof DurationError) throw new EngineSettingError(name, err.message.slice(name.length + 2));
        throw err;
      }
  }
}

/** Resolves and validates every setting; throws {@link EngineSettingError} for the first bad value. */
export function resolveEngineSettings(sources: EngineSettingSources): EngineSettings {
  const settings: Record<string, number | string | undefined> = { ...DEFAULTS };
  for (const spec of ENGINE_SETTINGS) {
    const layers: [string, string | undefined][] = [
      [`--${spec.flag}`, sources.flags?.[spec.key]],
      [spec.env, sources.env[spec.env]],
      [spec.configuration ?? '', fromConfiguration(spec, sources.configuration)],
    ];
    const found = layers.find(([name, value]) => name !== '' && value !== undefined && value !== '');
    if (found) settings[spec.key] = parseValue(spec, found[0], found[1] as string);
  }
  const resolved = settings as unknown as EngineSettings;
  // An explicit first interval above the default cap raises the cap, unless the cap is set too.
  const capSet = ENGINE_SETTINGS.some((s) => s.key === 'pubsubRetryMaxIntervalMs' && (sources.flags?.[s.key] || sources.env[s.env]));
  if (!capSet) resolved.pubsubRetryMaxIntervalMs = Math.max(resolved.pubsubRetryMaxIntervalMs, resolved.pubsubRetryIntervalMs);
  return resolved;
}
