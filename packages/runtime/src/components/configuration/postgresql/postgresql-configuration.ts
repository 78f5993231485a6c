/**
 * `configuration.postgresql`: Dapr's PostgreSQL configuration store. Items are rows of the table named
 * by `table` (required, as Dapr) with Dapr's layout: `key`, `value`, `version` (VARCHAR, NOT NULL) and
 * `metadata` (JSON). Weft creates the table when it does not exist.
 *
 * Subscriptions, as on Dapr, name their Postgres channel in the subscription metadata
 * (`pgNotifyChannel`) and listen on it with LISTEN on a connection of their own. Dapr leaves the
 * notifying trigger to the user; Weft installs it when the table has none for that channel, with the
 * function and trigger names and the payload Dapr's conformance tests use
 * (`configuration_event_<channel>`, `configTrigger_<channel>`, `{"table","action","data":row}`). A
 * trigger the user created under those names is kept. A DELETE arrives as an empty item (Dapr
 * forwards the deleted row's old value). A listener whose connection is lost connects again with
 * backoff and then delivers the watched items as they are, since changes meanwhile were not notified.
 *
 * Metadata: `connectionString`, `table`, `timeout` (default 20s).
 */
import pg from 'pg';
import type { Pool } from 'pg';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { MetadataError, requireString } from '../../metadata.js';
import type { Logger } from '../../../logging/logger.js';
import { QUALIFIED_IDENTIFIER, openPostgresPool, readPostgresSettings, withDdlLock } from '../../postgres-pool.js';
import type { PostgresPoolSettings } from '../../postgres-pool.js';
import type { ConfigurationChangeHandler, ConfigurationItem, ConfigurationRequest, ConfigurationStore, ConfigurationWatch } from '../store.js';
import { DELETED_ITEM } from '../store.js';

const CHANNEL = /^[A-Za-z_][A-Za-z0-9_]{0,40}$/;

interface Row {
  key: string;
  value: string;
  version: string;
  metadata: unknown;
}

function metadataOf(raw: unknown): Record<string, string> {
  const parsed: unknown = typeof raw === 'string' ? safeJson(raw) : raw;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The `pgNotifyChannel` of a subscription's metadata (any case, as Dapr matches it). */
function channelOf(metadata: Readonly<Record<string, string>>): string | undefined {
  return Object.entries(metadata).find(([k]) => k.toLowerCase() === 'pgnotifychannel')?.[1];
}

/** Postgres configuration store. */
export class PostgresConfigurationStore implements ConfigurationStore {
  private pool: Pool | undefined;
  private settings: PostgresPoolSettings | undefined;
  private table = '';
  private logger: Logger | undefined;
  private readonly listeners = new Set<pg.Client>();

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    this.settings = readPostgresSettings(props);
    const table = requireString(props, 'table');
    if (!QUALIFIED_IDENTIFIER.test(table)) throw new MetadataError('table', `must be a SQL identifier (optionally "schema.table"), got "${table}"`);
    this.table = table;
    this.logger = context.logger;
    this.pool = await openPostgresPool(this.settings, context, 'configuration.postgresql', (pool) =>
      withDdlLock(pool, `weft-configuration-${table}`, async (client) => {
        await client.query(`CREATE TABLE IF NOT EXISTS ${table} (key VARCHAR NOT NULL, value VARCHAR NOT NULL, version VARCHAR NOT NULL, metadata JSON)`);
      }),
    );
  }

  async get(request: ConfigurationRequest): Promise<Record<string, ConfigurationItem>> {
    const select = `SELECT key, value, version, metadata FROM ${this.table}`;
    const result =
      request.keys.length === 0 ? await this.db().query<Row>(select) : await this.db().query<Row>(`${select} WHERE key = ANY($1::varchar[])`, [[...request.keys]]);
    const items: Record<string, ConfigurationItem> = {};
    for (const row of result.rows) items[row.key] = { value: row.value, version: row.version, metadata: metadataOf(row.metadata) };
    return items;
  }

  async watch(request: ConfigurationRequest, onChange: ConfigurationChangeHandler): Promise<ConfigurationWatch> {
    const channel = channelOf(request.metadata);
    if (!channel) throw new Error(`unable to subscribe to '${this.table}': the subscription's pgNotifyChannel metadata cannot be empty`);
    if (!CHANNEL.test(channel)) throw new Error(`pgNotifyChannel must be a plain identifier (letters, digits, _), got "${channel}"`);
    await this.ensureTrigger(channel);
    const keys = new Set(request.keys);
    const onNotification = (msg: pg.Notification) => {
      if (msg.channel !== channel || !msg.payload) return;
      const payload = safeJson(msg.payload) as { action?: string; data?: Partial<Row> } | undefined;
      const row = payload?.data;
      if (!row || typeof row.key !== 'string') return;
      if (keys.size > 0 && !keys.has(row.key)) return;
      const item: ConfigurationItem =
        payload?.action === 'DELETE' ? DELETED_ITEM : { value: String(row.value ?? ''), version: String(row.version ?? ''), metadata: metadataOf(row.metadata) };
      onChange({ [row.key]: item });
    };
    let closed = false;
    let current: pg.Client | undefined;
    let retry: NodeJS.Timeout | undefined;
    let attempt = 0;
    const listen = async (): Promise<void> => {
      const client = new pg.Client({
        ...this.settings?.connection,
        connectionTimeoutMillis: this.settings?.timeoutMs,
        application_name: `weft-configuration-listener-${channel}`,
      });
      client.on('error', (err) => this.logger?.warn(`configuration.postgresql listener on "${channel}": ${err.message}`));
      client.on('notification', onNotification);
      client.on('end', () => {
        this.listeners.delete(client);
        if (!closed && current === client) reconnect();
      });
      try {
        await client.connect();
        // Quoted: pg_notify sends to the channel's exact spelling, and an unquoted LISTEN would lower-case it.
        await client.query(`LISTEN "${channel}"`);
      } catch (err) {
        await client.end().catch(() => undefined);
        throw err;
      }
      if (closed) {
        await client.end().catch(() => undefined);
        return;
      }
      current = client;
      this.listeners.add(client);
    };
    // A lost connection is re-established with backoff; changes made meanwhile were not notified, so
    // the watched items are re-read and delivered once listening again.
    const reconnect = () => {
      const delay = Math.min(100 * 2 ** attempt++, 5000);
      retry = setTimeout(() => {
        listen().then(
          async () => {
            attempt = 0;
            if (closed) return;
            this.logger?.info(`configuration.postgresql: listening on "${channel}" again`);
            try {
              const items = await this.get({ keys: [...keys], metadata: request.metadata });
              if (!closed && Object.keys(items).length > 0) onChange(items);
            } catch (err) {
              this.logger?.warn(`configuration.postgresql: re-reading items after reconnecting failed: ${(err as Error).message}`);
            }
          },
          (err: unknown) => {
            this.logger?.warn(`configuration.postgresql: cannot listen on "${channel}" again: ${(err as Error).message}`);
            if (!closed) reconnect();
          },
        );
      }, delay);
      retry.unref();
    };
    await listen();
    return {
      close: async () => {
        if (closed) return;
        closed = true;
        clearTimeout(retry);
        const client = current;
        current = undefined;
        if (client) {
          this.listeners.delete(client);
          await client.end().catch(() => undefined);
        }
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.listeners].map((c) => c.end().catch(() => undefined)));
    this.listeners.clear();
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  /** Installs Dapr's notify trigger for `channel` unless the table has one by that name. */
  private async ensureTrigger(channel: string): Promise<void> {
    const table = this.table;
    const fn = `configuration_event_${channel}`;
    const trigger = `configTrigger_${channel}`;
    await withDdlLock(this.db(), `weft-configuration-${table}`, async (client) => {
      const exists = await client.query(`SELECT 1 FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname = lower($2)`, [table, trigger]);
      if (exists.rowCount && exists.rowCount > 0) return;
      await client.query(`CREATE OR REPLACE FUNCTION ${fn}() RETURNS TRIGGER AS $$
        DECLARE
          data json;
          notification json;
        BEGIN
          IF (TG_OP = 'DELETE') THEN
            data = row_to_json(OLD);
          ELSE
            data = row_to_json(NEW);
          END IF;
          notification = json_build_object('table', TG_TABLE_NAME, 'action', TG_OP, 'data', data);
          PERFORM pg_notify('${channel}', notification::text);
          RETURN NULL;
        END;
      $$ LANGUAGE plpgsql`);
      await client.query(`CREATE TRIGGER ${trigger} AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE PROCEDURE ${fn}()`);
    });
  }

  private db(): Pool {
    if (!this.pool) throw new Error('configuration.postgresql is not initialised');
    return this.pool;
  }
}
