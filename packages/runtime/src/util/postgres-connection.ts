/**
 * The one reader of Postgres connection settings, used by every Postgres component, the jobs store,
 * the workflow engine's Postgres opener and the CLI. It accepts both forms Dapr (pgx) accepts:
 * a URL (`postgres://user:pw@host:5432/db?sslmode=disable`) and libpq's keyword/value form
 * (`host=localhost user=postgres password=x port=5432 dbname=db`), with quoted values and escapes.
 */
import fs from 'node:fs';
import type { ClientConfig } from 'pg';
import { MetadataError } from '../components/metadata.js';

/** Keywords of libpq's keyword/value connection strings that `pg` understands. */
const KEYWORDS: Record<string, (config: ClientConfig, value: string) => void> = {
  host: (c, v) => (c.host = v),
  hostaddr: (c, v) => (c.host = v),
  port: (c, v) => (c.port = Number(v)),
  user: (c, v) => (c.user = v),
  password: (c, v) => (c.password = v),
  dbname: (c, v) => (c.database = v),
  database: (c, v) => (c.database = v),
  application_name: (c, v) => (c.application_name = v),
  connect_timeout: (c, v) => (c.connectionTimeoutMillis = Number(v) * 1000),
  sslmode: (c, v) => {
    if (v === 'disable') c.ssl = false;
    else c.ssl = { ...(typeof c.ssl === 'object' ? c.ssl : {}), rejectUnauthorized: v === 'verify-ca' || v === 'verify-full' };
  },
  options: (c, v) => (c.options = [c.options, v].filter(Boolean).join(' ')),
  // pgx sends unknown keywords as run-time parameters; search_path is the one people set.
  search_path: (c, v) => (c.options = [c.options, `-c search_path=${v}`].filter(Boolean).join(' ')),
  sslrootcert: (c, v) => (c.ssl = { ...(typeof c.ssl === 'object' ? c.ssl : {}), ca: fs.readFileSync(v, 'utf8') }),
  sslcert: (c, v) => (c.ssl = { ...(typeof c.ssl === 'object' ? c.ssl : {}), cert: fs.readFileSync(v, 'utf8') }),
  sslkey: (c, v) => (c.ssl = { ...(typeof c.ssl === 'object' ? c.ssl : {}), key: fs.readFileSync(v, 'utf8') }),
};

/** pgx pool settings that only tune pgx's pool; accepted in the string, as pgx accepts them. */
const PGX_POOL_KEYWORDS = new Set([
  'pool_max_conns',
  'pool_min_conns',
  'pool_max_conn_lifetime',
  'pool_max_conn_idle_time',
  'pool_health_check_period',
  'pool_max_conn_lifetime_jitter',
]);

/** Splits libpq keyword/value text, honouring single quotes and backslash escapes. */
function parseKeywordValue(text: string, field: string): ClientConfig {
  const config: ClientConfig = {};
  const pattern = /\s*([A-Za-z_]+)\s*=\s*('((?:[^'\\]|\\.)*)'|[^\s']*)/gy;
  let consumed = 0;
  for (const match of text.matchAll(pattern)) {
    consumed = (match.index ?? 0) + match[0].length;
    const key = (match[1] ?? '').toLowerCase();
    const value = match[3] !== undefined ? match[3].replace(/\\(.)/g, '$1') : (match[2] ?? '');
    const apply = KEYWORDS[key];
    if (apply) apply(config, value);
    else if (!PGX_POOL_KEYWORDS.has(key)) {
      throw new MetadataError(field, `the connection setting "${key}" is not supported by Weft (supported: ${Object.keys(KEYWORDS).join(', ')})`);
    }
  }
  if (text.slice(consumed).trim() !== '') {
    throw new MetadataError(field, `cannot parse "${text.slice(consumed).trim()}" (expected key=value pairs or a postgres:// URL)`);
  }
  if (config.port !== undefined && (!Number.isInteger(config.port) || config.port < 1 || config.port > 65535)) {
    throw new MetadataError(field, 'port must be 1-65535');
  }
  return config;
}

/** Decodes a connection string in either form into `pg` settings. `field` names it in errors. */
export function parsePostgresConnection(text: string, field = 'connectionString'): ClientConfig {
  const trimmed = text.trim();
  if (trimmed === '') throw new MetadataError(field, 'is empty');
  if (/^postgres(ql)?:\/\//i.test(trimmed)) {
    try {
      new URL(trimmed);
    } catch {
      throw new MetadataError(field, 'is not a valid postgres:// URL');
    }
    return { connectionString: trimmed };
  }
  return parseKeywordValue(trimmed, field);
}

/**
 * The same settings as a `postgres://` URL, for code that takes only a URL. A socket directory
 * (a host starting with `/`) travels as the `host` query parameter.
 */
export function postgresUrl(text: string, field = 'connectionString'): string {
  const config = parsePostgresConnection(text, field);
  if (config.connectionString) return config.connectionString;
  const socket = typeof config.host === 'string' && config.host.startsWith('/');
  const auth = config.user
    ? `${encodeURIComponent(config.user)}${typeof config.password === 'string' ? `:${encodeURIComponent(config.password)}` : ''}@`
    : '';
  const host = socket || !config.host ? '' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const port = config.port !== undefined ? `:${config.port}` : '';
  const query = new URLSearchParams();
  if (socket) query.set('host', config.host as string);
  if (config.ssl === false) query.set('sslmode', 'disable');
  else if (config.ssl) query.set('sslmode', (config.ssl as { rejectUnauthorized?: boolean }).rejectUnauthorized ? 'verify-full' : 'no-verify');
  if (config.application_name) query.set('application_name', config.application_name);
  if (config.connectionTimeoutMillis !== undefined) query.set('connect_timeout', String(config.connectionTimeoutMillis / 1000));
  const search = query.toString();
  return `postgres://${auth}${host}${port}/${encodeURIComponent(config.database ?? '')}${search ? `?${search}` : ''}`;
}

/** Where the settings point (`host:port/db`), without credentials, for error messages. */
export function describePostgresTarget(config: ClientConfig): string {
  if (config.connectionString) {
    try {
      const url = new URL(config.connectionString);
      return `${url.hostname || url.searchParams.get('host') || 'localhost'}:${url.port || 5432}${url.pathname}`;
    } catch {
      return 'the configured database';
    }
  }
  return `${config.host ?? 'localhost'}:${config.port ?? 5432}/${config.database ?? ''}`;
}
