/**
 * Placement across machines through the shared PostgreSQL of a `state.postgresql` actor state store,
 * as the workflow engine leases its instances: each sidecar hosting actor types keeps a heartbeat row
 * (`weft_actor_hosts`: its address and types), and an actor id is active where its lease row
 * (`weft_actor_leases`) says. A sidecar whose app hosts the type claims a free or expired lease when
 * the actor is first called; it renews its leases with its heartbeat and drops them when the actor
 * deactivates or the sidecar stops. When a sidecar dies its leases expire and the next call claims them
 * elsewhere. Callers that do not host the type send the call to a live host, which claims the lease.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type pg from 'pg';
import { loadPg } from '../../util/load-pg.js';
import type { Logger } from '../../logging/logger.js';
import { parsePostgresConnection } from '../../util/postgres-connection.js';
import { actorErrors } from './actor-errors.js';
import type { ActorAnswer, ActorCall, ActorRoute, RemoteActors, RemoteRoute } from './actor-runtime.js';
import type { SidecarTransport } from '../../invoke/sidecar-transport.js';
import { ActorPeer } from './local-placement.js';

/** How long a host row and its leases live without a heartbeat. */
const LEASE_MS = 10_000;
const HEARTBEAT_MS = 2_000;

/** What the placement needs. */
export interface PostgresPlacementOptions {
  appId: string;
  /** `host:port` of this sidecar's internal port as other sidecars reach it, once it listens. */
  address: () => string | undefined;
  logger: Logger;
  /** How other sidecars' internal ports are dialled (mTLS when on). */
  transport?: SidecarTransport | undefined;
}

/** Postgres placement. */
export class PostgresPlacement implements RemoteActors {
  private readonly instance = randomUUID();
  private readonly peer: ActorPeer;
  private heartbeat: NodeJS.Timeout | undefined;
  private types: readonly string[] = [];

  private constructor(
    private readonly pool: pg.Pool,
    private readonly options: PostgresPlacementOptions,
  ) {
    this.peer = new ActorPeer(options.transport, options.appId);
  }

  /** Connects and creates the tables if needed. */
  static async open(connectionString: string, options: PostgresPlacementOptions): Promise<PostgresPlacement> {
    const pg = await loadPg();
    const pool = new pg.Pool({ ...parsePostgresConnection(connectionString), max: 4 });
    pool.on('error', () => {});
    try {
      await pool.query(`CREATE TABLE IF NOT EXISTS weft_actor_hosts (
        instance TEXT PRIMARY KEY, app_id TEXT NOT NULL, types TEXT[] NOT NULL, address TEXT NOT NULL, expires_at BIGINT NOT NULL)`);
      await pool.query(`CREATE TABLE IF NOT EXISTS weft_actor_leases (
        actor_type TEXT NOT NULL, actor_id TEXT NOT NULL, instance TEXT NOT NULL, address TEXT NOT NULL, expires_at BIGINT NOT NULL,
        PRIMARY KEY (actor_type, actor_id))`);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== '23505' && code !== '42P07') {
        await pool.end();
        throw err;
      }
    }
    return new PostgresPlacement(pool, options);
  }

  async announce(types: readonly string[]): Promise<void> {
    this.types = types;
    await this.beat();
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      this.beat().catch((err: unknown) => this.options.logger.warn(`actor placement heartbeat failed: ${(err as Error).message}`));
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  async route(actorType: string, actorId: string, hostedHere: boolean): Promise<ActorRoute> {
    const now = Date.now();
    // The holder's app id (from its host row) is the identity its certificate must show under mTLS.
    const held = await this.pool.query<{ instance: string; address: string; app_id: string | null }>(
      `SELECT l.instance, l.address, h.app_id FROM weft_actor_leases l LEFT JOIN weft_actor_hosts h ON h.instance = l.instance
       WHERE l.actor_type = $1 AND l.actor_id = $2 AND l.expires_at > $3`,
      [actorType, actorId, now],
    );
    const lease = held.rows[0];
    if (lease) return lease.instance === this.instance ? { local: true } : toRoute(lease.address, lease.app_id ?? undefined);
    const address = this.options.address();
    if (hostedHere && address) {
      const claimed = await this.pool.query<{ instance: string; address: string }>(
        `INSERT INTO weft_actor_leases VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (actor_type, actor_id) DO UPDATE SET instance = EXCLUDED.instance, address = EXCLUDED.address, expires_at = EXCLUDED.expires_at
           WHERE weft_actor_leases.expires_at <= $6
         RETURNING instance, address`,
        [actorType, actorId, this.instance, address, now + LEASE_MS, now],
      );
      if (claimed.rows[0]) return { local: true };
      return this.route(actorType, actorId, false);
    }
    if (hostedHere) return { local: true };
    const hosts = await this.pool.query<{ address: string; app_id: string }>(
      'SELECT address, app_id FROM weft_actor_hosts WHERE $1 = ANY(types) AND expires_at > $2 ORDER BY random() LIMIT 1',
      [actorType, now],
    );
    const host = hosts.rows[0];
    return host ? toRoute(host.address, host.app_id) : undefined;
  }

  async call(route: RemoteRoute, call: ActorCall): Promise<ActorAnswer> {
    try {
      return await this.peer.call(route, call);
    } catch (err) {
      // Nothing listens where the lease points: that sidecar is gone. Its leases and heartbeat are
      // expired now rather than in LEASE_MS, and the caller looks the actor up again.
      if (err instanceof Error && err.message.includes('ECONNREFUSED')) {
        const address = `${route.host}:${route.port}`;
        await this.pool.query('UPDATE weft_actor_leases SET expires_at = 0 WHERE address = $1', [address]);
        await this.pool.query('UPDATE weft_actor_hosts SET expires_at = 0 WHERE address = $1', [address]);
        throw actorErrors.invoke(`the sidecar at ${address} is gone: remote actor moved`);
      }
      throw err;
    }
  }

  /** Gives up the lease of a deactivated actor. */
  async release(actorType: string, actorId: string): Promise<void> {
    await this.pool.query('DELETE FROM weft_actor_leases WHERE actor_type = $1 AND actor_id = $2 AND instance = $3', [actorType, actorId, this.instance]);
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.pool.query('DELETE FROM weft_actor_leases WHERE instance = $1', [this.instance]).catch(() => undefined);
    await this.pool.query('DELETE FROM weft_actor_hosts WHERE instance = $1', [this.instance]).catch(() => undefined);
    await this.pool.end().catch(() => undefined);
    await this.peer.close();
  }

  private async beat(): Promise<void> {
    const address = this.options.address();
    if (!address || this.types.length === 0) return;
    const until = Date.now() + LEASE_MS;
    await this.pool.query(
      `INSERT INTO weft_actor_hosts VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (instance) DO UPDATE SET types = EXCLUDED.types, address = EXCLUDED.address, expires_at = EXCLUDED.expires_at`,
      [this.instance, this.options.appId, [...this.types], address, until],
    );
    await this.pool.query('UPDATE weft_actor_leases SET expires_at = $1 WHERE instance = $2', [until, this.instance]);
  }
}

function toRoute(address: string, appId: string | undefined): RemoteRoute {
  const at = address.lastIndexOf(':');
  const port = Number(address.slice(at + 1));
  if (at === -1 || !Number.isInteger(port)) throw actorErrors.invoke(`bad actor host address ${address}`);
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ''), port, ...(appId ? { appId } : {}) };
}

/** Where other machines reach this sidecar: `POD_IP` or the first external IPv4 when it listens on every interface. */
export function reachableHost(listenHost: string, host: string, env: Readonly<Record<string, string | undefined>>): string {
  if (listenHost !== '0.0.0.0' && listenHost !== '::') return host;
  if (env['POD_IP']) return env['POD_IP'];
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return host;
}
