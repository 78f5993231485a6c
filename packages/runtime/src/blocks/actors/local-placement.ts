/**
 * Placement without a placement service, on one machine: every sidecar publishes the actor types its
 * app hosts in its local name-resolution registry entry (`actorTypes`), and a caller finds the
 * sidecars hosting a type there. When several live sidecars host it (replicas of one app), rendezvous
 * hashing of the actor id over them picks one, the same one from every caller, so an actor id is
 * active on one sidecar at a time and moves when that sidecar's process is gone from the registry.
 * Calls travel sidecar to sidecar on the internal invocation port, under `/weft-internal/actors/`.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Agent, Dispatcher } from 'undici';
import { undici } from '../../util/load-undici.js';
import { sendError } from '../../api/http/server.js';
import { ApiError, errorMessage } from '../../errors/api-error.js';
import type { GrpcCodeValue } from '../../errors/api-error.js';
import { passThroughHeaders } from '../../invoke/headers.js';
import type { Logger } from '../../logging/logger.js';
import { LocalResolver, listRegistry } from '../../nameresolution/local/local-resolver.js';
import type { NameResolver } from '../../nameresolution/resolver.js';
import type { RegistryEntry } from '../../nameresolution/local/local-resolver.js';
import { actorErrors } from './actor-errors.js';
import type { ActorAnswer, ActorCall, ActorRoute, RemoteActors, RemoteRoute } from './actor-runtime.js';
import { plainTransport } from '../../invoke/sidecar-transport.js';
import type { SidecarTransport } from '../../invoke/sidecar-transport.js';

/** The path prefix of actor calls between sidecars. */
export const INTERNAL_ACTOR_PREFIX = '/weft-internal/actors/';
/** The registry attribute listing the hosted actor types. */
const TYPES_ATTRIBUTE = 'actorTypes';
const CACHE_MS = 500;
/** How often a hosting sidecar looks for sidecars that joined or left (rebalancing). */
const WATCH_MS = 1_000;
/** Set on an answer that is an actor runtime error of the callee sidecar, with its gRPC code. */
const ERROR_HEADER = 'x-weft-actor-error';

/** What the placement needs. */
export interface LocalPlacementOptions {
  /** The registry directory of the local resolver. */
  dir: string;
  /** This sidecar in the registry (pid and internal port), once published. */
  self: () => { appId: string; pid: number; internalPort: number } | undefined;
  /** Publishes this sidecar's hosted types. */
  publish: (extra: Record<string, string>) => Promise<void>;
  logger: Logger;
  /** How other sidecars' internal ports are dialled. @default plainTransport */
  transport?: SidecarTransport | undefined;
}

/**
 * Actor calls between sidecars: HTTP on the callee's internal port, under {@link INTERNAL_ACTOR_PREFIX},
 * dialled as service invocation dials it: over mTLS when it is on (the callee's certificate must carry
 * the SPIFFE ID of the app hosting the actor, and the internal port takes nothing else), else plain.
 */
export class ActorPeer {
  /** Built at the first call, so a sidecar that makes none does not load undici. */
  private agent: Agent | undefined;

  constructor(
    private readonly transport: SidecarTransport = plainTransport,
    /** The app id a route without one is for (a replica of this app). */
    private readonly ownAppId = '',
  ) {}

  private pool(): Agent {
    this.agent ??= new (undici().Agent)({ connections: 64, keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0, connect: this.transport.connect });
    return this.agent;
  }

  async call(route: RemoteRoute, call: ActorCall): Promise<ActorAnswer> {
    const path = `${INTERNAL_ACTOR_PREFIX}${encodeURIComponent(call.actorType)}/${encodeURIComponent(call.actorId)}/method/${call.method
      .split('/')
      .map(encodeURIComponent)
      .join('/')}${call.query ? `?${call.query}` : ''}`;
    let res: Dispatcher.ResponseData;
    try {
      res = await this.pool().request({
        origin: this.transport.origin(route.host, route.port, route.appId ?? this.ownAppId),
        path,
        method: 'PUT',
        headers: passThroughHeaders(call.headers ?? {}, ['content-length', 'dapr-api-token']),
        body: call.body,
      });
    } catch (err) {
      const cause = this.transport.describe(err, route.appId ?? this.ownAppId) ?? errorMessage(err);
      throw actorErrors.invoke(`failed to invoke target ${route.host}:${route.port}: ${cause}`);
    }
    const body = Buffer.from(await res.body.arrayBuffer());
    const headers = passThroughHeaders(res.headers as Record<string, string | string[]>, ['content-length', 'connection', 'keep-alive', 'transfer-encoding']);
    const grpcCode = res.headers[ERROR_HEADER];
    if (typeof grpcCode === 'string') {
      const parsed = JSON.parse(body.toString('utf8')) as { errorCode: string; message: string };
      throw new ApiError(parsed.errorCode, res.statusCode, Number(grpcCode) as GrpcCodeValue, parsed.message);
    }
    return { status: res.statusCode, headers, body };
  }

  async close(): Promise<void> {
    await this.agent?.close();
  }
}

/** The internal-port handler: serves `/weft-internal/actors/...` with the local runtime. */
export function actorPeerHandler(invokeLocal: (call: ActorCall) => Promise<ActorAnswer>): (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<void> {
  return async (req, res, body) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rest = (q === -1 ? url : url.slice(0, q)).slice(INTERNAL_ACTOR_PREFIX.length);
    const m = /^([^/]+)\/([^/]+)\/method\/(.+)$/.exec(rest);
    try {
      if (!m) throw actorErrors.badRequest(`malformed internal actor path ${url}`);
      const [, type, id, method] = m;
      const answer = await invokeLocal({
        actorType: decodeURIComponent(type ?? ''),
        actorId: decodeURIComponent(id ?? ''),
        method: (method ?? '').split('/').map(decodeURIComponent).join('/'),
        body,
        headers: req.headers,
        ...(q === -1 ? {} : { query: url.slice(q + 1) }),
      });
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    } catch (err) {
      const api = err instanceof ApiError ? err : actorErrors.invoke(errorMessage(err));
      // Marks an error of the actor runtime (not the app's own answer), so the caller rethrows it as is.
      res.setHeader(ERROR_HEADER, String(api.grpcCode));
      sendError(res, api);
    }
  };
}


/** Rendezvous (highest random weight) hashing: the same owner for an id from every caller. */
function pick(entries: readonly RegistryEntry[], actorKey: string): RegistryEntry | undefined {
  let best: RegistryEntry | undefined;
  let bestScore = '';
  for (const e of entries) {
    const score = createHash('sha1').update(`${e.appId}|${e.pid}|${e.internalPort}|${actorKey}`).digest('hex');
    if (score > bestScore) {
      best = e;
      bestScore = score;
    }
  }
  return best;
}

/** Local placement over the registry directory. */
export class LocalPlacement implements RemoteActors {
  private readonly peer: ActorPeer;
  private cache: { entries: RegistryEntry[]; until: number } | undefined;

  constructor(private readonly options: LocalPlacementOptions) {
    this.peer = new ActorPeer(options.transport, options.self()?.appId ?? '');
  }

  /** Announces the types this sidecar's app hosts. */
  async announce(types: readonly string[]): Promise<void> {
    await this.options.publish({ [TYPES_ATTRIBUTE]: types.join(',') });
    this.cache = undefined;
  }

  async route(actorType: string, actorId: string, hostedHere: boolean): Promise<ActorRoute> {
    const self = this.options.self();
    const isSelf = (e: { pid: number; internalPort: number }) => self !== undefined && e.pid === self.pid && e.internalPort === self.internalPort;
    const hosts = (await this.entries()).filter((e) => !isSelf(e) && (e.extra?.[TYPES_ATTRIBUTE] ?? '').split(',').includes(actorType));
    // This sidecar counts from its own view of its app, whether or not its entry shows the types yet.
    if (hostedHere) {
      if (!self) return { local: true };
      hosts.push({ ...self, host: '', namespace: '', httpPort: 0, grpcPort: 0, created: '' });
    }
    const owner = pick(hosts, `${actorType}||${actorId}`);
    if (!owner) return undefined;
    if (isSelf(owner)) return { local: true };
    return { host: owner.host, port: owner.internalPort, appId: owner.appId };
  }

  /**
   * Polls the registry for the sidecars hosting actor types; calls `onChange` (with a fresh view) when
   * that set changes, since rendezvous hashing then moves some ids.
   */
  watch(onChange: () => void): () => void {
    let last: string | undefined;
    let busy = false;
    const poll = async () => {
      if (busy) return;
      busy = true;
      try {
        const entries = await listRegistry(this.options.dir);
        const hosting = entries
          .filter((e) => (e.extra?.[TYPES_ATTRIBUTE] ?? '') !== '')
          .map((e) => `${e.appId}|${e.pid}|${e.internalPort}|${e.extra?.[TYPES_ATTRIBUTE] ?? ''}`)
          .sort()
          .join('\n');
        if (last !== undefined && hosting !== last) {
          this.cache = { entries, until: Date.now() + CACHE_MS };
          onChange();
        }
        last = hosting;
      } catch (err) {
        this.options.logger.debug(`actor placement: cannot read the registry: ${errorMessage(err)}`);
      } finally {
        busy = false;
      }
    };
    void poll();
    const timer = setInterval(() => void poll(), WATCH_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  call(route: RemoteRoute, call: ActorCall): Promise<ActorAnswer> {
    return this.peer.call(route, call).catch((err: unknown) => {
      this.cache = undefined;
      throw err;
    });
  }

  async close(): Promise<void> {
    await this.peer.close();
  }

  private async entries(): Promise<RegistryEntry[]> {
    const now = Date.now();
    if (this.cache && this.cache.until > now) return this.cache.entries;
    const entries = await listRegistry(this.options.dir);
    this.cache = { entries, until: now + CACHE_MS };
    return entries;
  }
}

/**
 * The sidecar's placement: through the shared Postgres when the actor state store is one (see
 * `postgres-placement.ts`), else over the name resolution the sidecar ends up with (it starts after
 * the actors block): the local registry's, or none (actors then stay with the sidecar whose app hosts
 * them, and other types answer "did not find address").
 */
export class SidecarPlacement implements RemoteActors {
  private local: LocalPlacement | undefined;

  constructor(
    private readonly resolver: () => NameResolver | undefined,
    private readonly self: () => { appId: string; pid: number; internalPort: number } | undefined,
    private readonly logger: Logger,
    /** Placement through the shared database (a Postgres actor state store); wins over the registry. */
    private readonly shared?: RemoteActors & { close(): Promise<void> },
    /** How other sidecars' internal ports are dialled (mTLS when on). */
    private readonly transport: SidecarTransport = plainTransport,
  ) {}

  async release(actorType: string, actorId: string): Promise<void> {
    await this.shared?.release?.(actorType, actorId);
  }

  /** Announces in the shared database and in the local registry, where callers without it look. */
  async announce(types: readonly string[]): Promise<void> {
    await this.shared?.announce(types);
    await this.registry()?.announce(types);
  }

  async route(actorType: string, actorId: string, hostedHere: boolean): Promise<ActorRoute> {
    const placement = this.placement();
    if (!placement) return hostedHere ? { local: true } : undefined;
    return placement.route(actorType, actorId, hostedHere);
  }

  call(route: RemoteRoute, call: ActorCall): Promise<ActorAnswer> {
    const placement = this.placement();
    if (!placement) return Promise.reject(actorErrors.invoke('no actor placement'));
    return placement.call(route, call);
  }

  /** Watches the local registry (leases in Postgres do not move while their holder lives). */
  watch(onChange: () => void): () => void {
    if (this.shared) return () => {};
    return this.registry()?.watch(onChange) ?? (() => {});
  }

  /** What places actors, for the metadata API: Postgres leases, the local registry, or nothing. */
  describe(): string {
    if (this.shared) return 'leases in the shared PostgreSQL of the actor state store';
    if (this.registry()) return 'local name-resolution registry';
    return 'no placement; actors of this app only';
  }

  /** The internal-port handler over the local runtime. */
  handler(invokeLocal: (call: ActorCall) => Promise<ActorAnswer>): (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<void> {
    return actorPeerHandler(invokeLocal);
  }

  async close(): Promise<void> {
    await this.local?.close();
    await this.shared?.close();
  }

  private placement(): RemoteActors | undefined {
    return this.shared ?? this.registry();
  }

  private registry(): LocalPlacement | undefined {
    if (this.local) return this.local;
    const resolver = this.resolver();
    if (!(resolver instanceof LocalResolver)) return undefined;
    this.local = new LocalPlacement({ dir: resolver.dir, self: this.self, publish: (extra) => resolver.update(extra), logger: this.logger, transport: this.transport });
    return this.local;
  }
}
