/**
 * The state drivers the conformance suite runs against, each with its capability list (what the
 * suite may expect of it) and, for every capability it lacks, the reason a skipped case reports.
 * Each driver provisions a backend unique to one run (a table, a file, a key prefix) and removes it
 * afterwards, so runs can overlap and repeat.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import type { StateFeature } from '../../src/components/state/store.js';
import { POSTGRES_URL, REDIS_HOST, SERVICES } from '../../../../test/support/services.js';
import type { ServiceEndpoint } from '../../../../test/support/services.js';

/**
 * What a driver can do: the store features it declares, plus `SHARED_BACKEND` when two sidecars can
 * reach one store (everything but in-memory, which lives inside one sidecar).
 */
export type StateCapability = StateFeature | 'SHARED_BACKEND';

/** A backend provisioned for one run. */
export interface StateBackend {
  /** Component metadata entries pointing at the backend (before `keyPrefix` and friends). */
  metadata: Record<string, string>;
  /** Removes everything the run created. */
  cleanup(): Promise<void>;
}

/** One driver under test. */
export interface StateDriverSpec {
  /** Shown in suite names, e.g. `state.postgresql/v2`. */
  label: string;
  type: string;
  version: string;
  /** The service that must be up; undefined for embedded drivers. */
  service?: ServiceEndpoint;
  /** Exactly the features `features()` must return. */
  features: readonly StateFeature[];
  sharedBackend: boolean;
  /** Why each missing capability is missing; every capability absent above needs one. */
  gaps: Partial<Record<StateCapability, string>>;
  /** Whether etags are numbers (version counters, `xmin`) or UUIDs. */
  etagFormat: 'numeric' | 'uuid';
  /**
   * What an etag on a key that does not exist does: `conflict` (409, the key stays absent) or
   * `ignored` (the save or delete goes through), as Dapr's Redis Lua scripts check an etag only
   * against a key that exists.
   */
  etagOnMissingKey: 'conflict' | 'ignored';
  /**
   * What an etag the store cannot have minted does on a save and on a delete: `invalid` (400) or
   * `mismatch` (409). Dapr's SQLite store compares it with the stored one without parsing it; Dapr's
   * Redis store parses it as a number on saves only.
   */
  malformedEtag: { save: 'invalid' | 'mismatch'; delete: 'invalid' | 'mismatch' };
  /**
   * Whether JSON values come back as equal JSON rather than the same bytes: Dapr's
   * `state.postgresql` v1 keeps them in a jsonb column, which reorders keys and respaces.
   */
  normalisesJson?: boolean;
  provision(runId: string, dir: string): Promise<StateBackend>;
}

/** A short id safe in SQL identifiers, Redis keys and app ids. */
export function newRunId(): string {
  return `r${randomBytes(5).toString('hex')}`;
}

/** Deletes every Redis key that contains `token` (app ids, custom prefixes and keys carry it). */
async function deleteRedisKeys(token: string): Promise<void> {
  const [host, port] = REDIS_HOST.split(':');
  const redis = new Redis({ host, port: Number(port ?? 6379), lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${token}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

function postgresDriver(version: 'v1' | 'v2'): StateDriverSpec {
  return {
    label: `state.postgresql/${version}`,
    type: 'state.postgresql',
    version,
    service: SERVICES.postgres,
    features: version === 'v1' ? ['ETAG', 'TRANSACTIONAL', 'TTL', 'QUERY_API'] : ['ETAG', 'TRANSACTIONAL', 'TTL'],
    sharedBackend: true,
    gaps: version === 'v1' ? {} : { QUERY_API: 'state.postgresql v2 has no query API, as in Dapr (its value is bytea)' },
    etagFormat: version === 'v1' ? 'numeric' : 'uuid',
    etagOnMissingKey: 'conflict',
    malformedEtag: { save: 'invalid', delete: 'invalid' },
    normalisesJson: version === 'v1',
    provision: async (runId) => {
      // v1 names its table with tableName; v2, as Dapr's v2, with tablePrefix + "state".
      const table = version === 'v1' ? `weft_conf_${runId}` : `weft_conf_${runId}_state`;
      const metadataTable = `weft_conf_meta_${runId}`;
      const where: Record<string, string> = version === 'v1' ? { tableName: table } : { tablePrefix: `weft_conf_${runId}_` };
      return {
        metadata: { connectionString: POSTGRES_URL, ...where, metadataTableName: metadataTable },
        cleanup: async () => {
          const client = new pg.Client({ connectionString: POSTGRES_URL });
          await client.connect();
          try {
            await client.query(`DROP TABLE IF EXISTS ${table}, ${metadataTable}`);
          } finally {
            await client.end();
          }
        },
      };
    },
  };
}

/** Every state driver Weft ships. */
export const STATE_DRIVERS: readonly StateDriverSpec[] = [
  {
    label: 'state.in-memory',
    type: 'state.in-memory',
    version: 'v1',
    features: ['ETAG', 'TRANSACTIONAL', 'TTL', 'QUERY_API'],
    sharedBackend: false,
    gaps: { SHARED_BACKEND: 'state.in-memory lives inside one sidecar; two sidecars cannot share it' },
    etagFormat: 'numeric',
    etagOnMissingKey: 'conflict',
    malformedEtag: { save: 'invalid', delete: 'invalid' },
    provision: async () => ({ metadata: {}, cleanup: async () => undefined }),
  },
  {
    label: 'state.sqlite',
    type: 'state.sqlite',
    version: 'v1',
    features: ['ETAG', 'TRANSACTIONAL', 'TTL', 'QUERY_API'],
    sharedBackend: true,
    gaps: {},
    etagFormat: 'uuid',
    etagOnMissingKey: 'conflict',
    malformedEtag: { save: 'mismatch', delete: 'mismatch' },
    // The file lives in the run's temp directory, which the suite removes.
    provision: async (runId, dir) => ({
      metadata: { connectionString: path.join(dir, `${runId}.sqlite`) },
      cleanup: async () => undefined,
    }),
  },
  {
    label: 'state.redis',
    type: 'state.redis',
    version: 'v1',
    service: SERVICES.redis,
    features: ['ETAG', 'TRANSACTIONAL', 'TTL'],
    sharedBackend: true,
    gaps: { QUERY_API: 'state.redis declares no QUERY_API (needs RediSearch)' },
    etagFormat: 'numeric',
    etagOnMissingKey: 'ignored',
    malformedEtag: { save: 'invalid', delete: 'mismatch' },
    provision: async (runId) => ({
      metadata: { redisHost: REDIS_HOST },
      cleanup: () => deleteRedisKeys(runId),
    }),
  },
  postgresDriver('v1'),
  postgresDriver('v2'),
];

/** Whether a driver has a capability. */
export function hasCapability(driver: StateDriverSpec, capability: StateCapability): boolean {
  return capability === 'SHARED_BACKEND' ? driver.sharedBackend : driver.features.includes(capability);
}

/** The reason a driver lacks a capability (the skipped case's note). */
export function gapReason(driver: StateDriverSpec, capability: StateCapability): string {
  return driver.gaps[capability] ?? `${driver.label} declares no ${capability}`;
}

/** A component resource for a driver; `extra` adds metadata such as `keyPrefix`. */
export function componentYaml(name: string, driver: StateDriverSpec, backend: StateBackend, extra: Record<string, string> = {}): string {
  const metadata = { ...backend.metadata, ...extra };
  const lines = Object.entries(metadata).map(([k, v]) => `  - name: ${k}\n    value: ${JSON.stringify(v)}`);
  return [
    'apiVersion: dapr.io/v1alpha1',
    'kind: Component',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  type: ${driver.type}`,
    `  version: ${driver.version}`,
    ...(lines.length > 0 ? ['  metadata:', ...lines] : ['  metadata: []']),
    '',
  ].join('\n');
}
