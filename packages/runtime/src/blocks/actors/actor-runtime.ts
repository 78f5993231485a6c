/**
 * The actor runtime of one sidecar: which actor types the app hosts (from its `GET /dapr/config`),
 * the active actors with their turn locks, idle deactivation (`DELETE /actors/{type}/{id}`), timers
 * (in memory, per active actor) and the calls into the app (`PUT /actors/{type}/{id}/method/...`)
 * with Dapr's bodies and error mapping (dapr `pkg/actors/targets/app`).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AppChannel, AppResponse } from '../../appchannel/app-channel.js';
import { ApiError, errorMessage } from '../../errors/api-error.js';
import { passThroughHeaders } from '../../invoke/headers.js';
import type { Logger } from '../../logging/logger.js';
import { actorErrors } from './actor-errors.js';
import type { ActorMetrics } from './actor-metrics.js';
import { parseAppActorConfig } from './app-config.js';
import type { ActorTypeConfig } from './app-config.js';
import { computeSchedule, followingDue } from './reminders.js';
import type { FireOutcome, Schedule, StoredReminder } from './reminders.js';
import { ActorClosedError, TurnLock } from './turn-lock.js';
import { backoffMs } from '../../resiliency/retry.js';
import type { RetryPolicy } from '../../resiliency/retry.js';

/** Dapr's reentrancy header, sent to the app and read back from its nested calls. */
export const REENTRANCY_HEADER = 'dapr-reentrancy-id';
const ERROR_RESPONSE_HEADER = 'x-daprerrorresponseheader';
const REMINDER_CANCEL_HEADER = 'x-daprremindercancel';

/** A call of an actor method. */
export interface ActorCall {
  actorType: string;
  actorId: string;
  method: string;
  body: Buffer;
  /** Request headers to pass to the app (content type, reentrancy id, trace context …). */
  headers?: IncomingHttpHeaders;
  query?: string;
}

/** The app's answer to an actor call. */
export interface ActorAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** A timer registration. */
export interface TimerRequest {
  actorType: string;
  actorId: string;
  name: string;
  dueTime: string;
  period: string;
  ttl: string;
  callback: string;
  data: string | undefined;
}

interface ActiveTimer {
  request: TimerRequest;
  schedule: Schedule;
  due: number;
  fired: number;
  handle: NodeJS.Timeout | undefined;
}

interface ActiveActor {
  type: string;
  id: string;
  lock: TurnLock;
  idle: NodeJS.Timeout | undefined;
  timers: Map<string, ActiveTimer>;
  /** The app has seen a call for this actor (only then is it told of the deactivation). */
  called: boolean;
}

/** What the runtime needs. */
export interface ActorRuntimeOptions {
  logger: Logger;
  metrics?: ActorMetrics | undefined;
  /** Where actor types hosted by other sidecars are called; undefined: only local types. */
  remote?: RemoteActors | undefined;
  /**
   * How long a call for an actor type no sidecar hosts keeps looking it up: daprd's built-in
   * `DaprBuiltInActorNotFoundRetries` (constant, 1s, 5 retries). Undefined: no retry.
   */
  notFoundRetry?: RetryPolicy | undefined;
  /**
   * The longest a shutdown waits for an actor's ongoing call, whatever its `drainOngoingCallTimeout`
   * (the sidecar's `--dapr-graceful-shutdown-seconds`). @default no cap
   */
  shutdownDrainCapMs?: number | undefined;
}

/** Another sidecar's internal port, and the app id its certificate must show under mTLS (default: this app). */
export interface RemoteRoute {
  host: string;
  port: number;
  appId?: string | undefined;
}

/** Where an actor lives: here, at another sidecar's internal port, or nowhere (undefined). */
export type ActorRoute = { local: true } | RemoteRoute | undefined;

/** Placement without a placement service: finds an actor's sidecar and calls it there. */
export interface RemoteActors {
  /** Announces the types this sidecar's app hosts. */
  announce(types: readonly string[]): Promise<void>;
  /** Where the actor lives; `hostedHere` says whether this sidecar's app hosts the type. */
  route(actorType: string, actorId: string, hostedHere: boolean): Promise<ActorRoute>;
  /** Calls the actor on another sidecar, which runs it under its turn lock. */
  call(route: RemoteRoute, call: ActorCall): Promise<ActorAnswer>;
  /** Gives up this sidecar's claim on a deactivated actor. */
  release?(actorType: string, actorId: string): Promise<void>;
  /** Calls `onChange` when the sidecars hosting actors change (actors may move); returns the unsubscribe. */
  watch?(onChange: () => void): () => void;
}

/** The answer of a sidecar to a call for an actor that now lives elsewhere (daprd's words). */
const MOVED = 'remote actor moved';
/** Marks a call forwarded a second time between sidecars. */
const HOP_HEADER = 'x-weft-actor-hop';

const actorKey = (type: string, id: string) => `${type}||${id}`;
const seg = encodeURIComponent;

/** The runtime. */
export class ActorRuntime {
  private channel: AppChannel | undefined;
  private types = new Map<string, ActorTypeConfig>();
  private readonly active = new Map<string, ActiveActor>();
  private configRead = false;
  private closed = false;
  private unwatch: (() => void) | undefined;

  constructor(private readonly options: ActorRuntimeOptions) {}

  /** Actor types the app hosts. */
  get hostedTypes(): string[] {
    return [...this.types.keys()];
  }

  /** True once the app's config has been read (reminders wait for it). */
  get ready(): boolean {
    return this.configRead && !this.closed;
  }

  /** Active actors per type (the metadata API's `actors`). */
  activeCounts(): { type: string; count: number }[] {
    const counts = new Map<string, number>(this.hostedTypes.map((t) => [t, 0]));
    for (const a of this.active.values()) counts.set(a.type, (counts.get(a.type) ?? 0) + 1);
    return [...counts].map(([type, count]) => ({ type, count }));
  }

  /** True when the app hosts the type. */
  hosts(actorType: string): boolean {
    return this.types.has(actorType);
  }

  /** True when the actor is active here. */
  isActive(actorType: string, actorId: string): boolean {
    return this.active.has(actorKey(actorType, actorId));
  }

  /** Starts with no hosted types: no app, or an app without actor callbacks (gRPC). */
  hostNothing(): void {
    this.configRead = true;
  }

  /** Reads the app's `GET /dapr/config` over the (HTTP) app channel and starts hosting its types. */
  async start(channel: AppChannel): Promise<void> {
    this.channel = channel;
    const { logger } = this.options;
    let body: unknown;
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await channel.call({ method: 'GET', path: '/dapr/config', signal: AbortSignal.timeout(10_000) });
        if (res.status === 200) {
          try {
            body = JSON.parse(res.body.toString('utf8'));
          } catch {
            logger.warn('the app answered GET /dapr/config with a body that is not JSON: it hosts no actors');
          }
        }
        break;
      } catch (err) {
        if (attempt >= 5 || this.closed) {
          logger.warn(`cannot read the app's actor configuration (GET /dapr/config): ${errorMessage(err)}`);
          break;
        }
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
    const config = parseAppActorConfig(body);
    for (const w of config.warnings) logger.warn(w);
    this.types = config.types;
    this.configRead = true;
    if (config.entities.length > 0) logger.info(`actors: the app hosts ${config.entities.join(', ')}`);
    await this.options.remote?.announce(config.entities).catch((err: unknown) => logger.warn(`cannot announce the hosted actor types: ${errorMessage(err)}`));
    if (config.entities.length > 0 && !this.closed) this.unwatch = this.options.remote?.watch?.(() => void this.rebalance());
  }

  /** Invokes an actor method (any client verb becomes PUT toward the app, as in daprd). */
  async invoke(call: ActorCall): Promise<ActorAnswer> {
    if (this.closed) throw actorErrors.runtimeClosed();
    for (let attempt = 1; ; attempt++) {
      const route = await this.lookup(call.actorType, call.actorId);
      if ('local' in route) return this.invokeLocal(call);
      try {
        return await (this.options.remote as RemoteActors).call(route, call);
      } catch (err) {
        // The actor moved between our lookup and the callee's: look it up again.
        if (attempt < 3 && err instanceof ApiError && err.message.endsWith(MOVED)) continue;
        throw err;
      }
    }
  }

  /**
   * Where an actor lives, looking again while no sidecar hosts its type, as daprd's router retries
   * placement lookups under `DaprBuiltInActorNotFoundRetries` (a host may be starting).
   */
  private async lookup(actorType: string, actorId: string): Promise<NonNullable<ActorRoute>> {
    const policy = this.options.notFoundRetry;
    for (let retry = 1; ; retry++) {
      const route = await this.route(actorType, actorId);
      if (route) return route;
      if (!policy || (policy.maxRetries >= 0 && retry > policy.maxRetries) || this.closed) throw actorErrors.lookupNoAddress();
      const wait = backoffMs(policy, retry);
      this.options.logger.debug(`actor type ${actorType} is not hosted by any sidecar yet; looking up ${actorKey(actorType, actorId)} again in ${wait}ms`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** A call forwarded by another sidecar: served here unless the actor now lives elsewhere. */
  async invokeForwarded(call: ActorCall): Promise<ActorAnswer> {
    const route = await this.route(call.actorType, call.actorId);
    if (route && !('local' in route)) {
      // One more hop at most: callers with another view of placement (the local registry) reach
      // the owner through us; a second hop means the actor moved meanwhile.
      if (call.headers?.[HOP_HEADER] !== undefined) throw actorErrors.invoke(MOVED);
      return (this.options.remote as RemoteActors).call(route, { ...call, headers: { ...call.headers, [HOP_HEADER]: '1' } });
    }
    return this.invokeLocal(call);
  }

  /** Where an actor lives (local when no placement is configured and the app hosts the type). */
  private async route(actorType: string, actorId: string): Promise<ActorRoute> {
    const hosted = this.hosts(actorType);
    const remote = this.options.remote;
    if (!remote) return hosted ? { local: true } : undefined;
    try {
      return await remote.route(actorType, actorId, hosted);
    } catch (err) {
      this.options.logger.warn(`actor placement lookup failed: ${errorMessage(err)}`);
      return hosted ? { local: true } : undefined;
    }
  }

  /** Invokes an actor hosted here (also the entry point of calls from other sidecars). */
  async invokeLocal(call: ActorCall): Promise<ActorAnswer> {
    if (this.closed) throw actorErrors.runtimeClosed();
    if (!this.hosts(call.actorType)) throw actorErrors.lookupNoAddress();
    const headerValue = call.headers?.[REENTRANCY_HEADER];
    const reentrancyId = Array.isArray(headerValue) ? headerValue[0] : headerValue;
    const res = await this.underLock(call.actorType, call.actorId, reentrancyId, (id) =>
      this.callApp(call.actorType, call.actorId, call.method, call.body, call.headers, id, call.query),
    );
    if (res.headers[ERROR_RESPONSE_HEADER] !== undefined) {
      // The .NET SDK's actor errors: passed back as the app answered.
      return { status: res.status, headers: passThroughHeaders(res.headers, ['content-length']), body: res.body };
    }
    if (res.status === 404) throw actorErrors.invoke(`actor method not found: actors/${call.actorType}/${call.actorId}/method/${call.method}`);
    if (res.status !== 200) throw actorErrors.invoke(`error from actor service: (${res.status}) ${res.body.toString('utf8')}`);
    return { status: 200, headers: passThroughHeaders(res.headers, ['content-length']), body: res.body };
  }

  /** Registers (or replaces) a timer of an actor of a hosted type; activates the actor if needed. */
  createTimer(req: TimerRequest, now = Date.now()): void {
    const key = `${actorKey(req.actorType, req.actorId)}||${req.name}`;
    if (!this.hosts(req.actorType)) throw actorErrors.timerCreate(`can't create timer for actor ${actorKey(req.actorType, req.actorId)}: actor type not registered`);
    let schedule: Schedule;
    try {
      schedule = computeSchedule('timer', key, req.dueTime, req.period, req.ttl, now);
    } catch (err) {
      throw actorErrors.timerCreate((err as Error).message);
    }
    const actor = this.getOrCreate(req.actorType, req.actorId);
    this.clearTimer(actor, req.name);
    const timer: ActiveTimer = { request: req, schedule, due: schedule.first, fired: 0, handle: undefined };
    actor.timers.set(req.name, timer);
    this.armTimer(actor, timer);
    this.countTimers(req.actorType);
  }

  /** Removes a timer; removing a missing one succeeds. */
  deleteTimer(actorType: string, actorId: string, name: string): void {
    const actor = this.active.get(actorKey(actorType, actorId));
    if (actor) {
      this.clearTimer(actor, name);
      this.countTimers(actorType);
    }
  }

  /** Delivers a reminder (`PUT .../method/remind/{name}`), activating the actor if needed. */
  async fireReminder(reminder: StoredReminder): Promise<FireOutcome> {
    if (!this.hosts(reminder.actorType) || this.closed) return 'not-hosted';
    const body = callbackBody(reminder.data, { dueTime: reminder.dueTime, period: reminder.period });
    const route = await this.route(reminder.actorType, reminder.actorId);
    if (route && !('local' in route)) {
      // The actor lives on another replica of the app: deliver it there, under that sidecar's lock.
      try {
        const answer = await (this.options.remote as RemoteActors).call(route, {
          actorType: reminder.actorType,
          actorId: reminder.actorId,
          method: `remind/${reminder.name}`,
          body,
          headers: { 'content-type': 'application/json' },
        });
        return isTruthy(answer.headers[REMINDER_CANCEL_HEADER]) ? 'cancel' : 'ok';
      } catch (err) {
        this.options.logger.warn(`actor reminder ${reminder.actorType}||${reminder.actorId}||${reminder.name} failed on its sidecar: ${errorMessage(err)}`);
        return 'failed';
      }
    }
    try {
      const res = await this.underLock(reminder.actorType, reminder.actorId, undefined, (id) =>
        this.callApp(reminder.actorType, reminder.actorId, `remind/${reminder.name}`, body, { 'content-type': 'application/json' }, id),
      );
      if (isTruthy(res.headers[REMINDER_CANCEL_HEADER])) return 'cancel';
      if (res.status !== 200) {
        this.options.logger.warn(`actor reminder ${reminder.actorType}||${reminder.actorId}||${reminder.name}: the app answered ${res.status}`);
        return 'failed';
      }
      return 'ok';
    } catch (err) {
      this.options.logger.warn(`actor reminder ${reminder.actorType}||${reminder.actorId}||${reminder.name} failed: ${errorMessage(err)}`);
      return 'failed';
    }
  }

  /** Deactivates every active actor (shutdown, draining as its type says) and refuses further calls. */
  async close(): Promise<void> {
    this.closed = true;
    this.unwatch?.();
    await Promise.all([...this.active.values()].map((a) => this.deactivate(a, 'shutdown')));
  }

  /**
   * Deactivates the active actors that placement now puts on another sidecar (a replica joined or
   * came back), as daprd halts the actors a new placement table moves away (`HaltNonHosted`).
   */
  async rebalance(): Promise<void> {
    const remote = this.options.remote;
    if (!remote || this.closed) return;
    const moved: ActiveActor[] = [];
    for (const actor of [...this.active.values()]) {
      let route: ActorRoute;
      try {
        route = await remote.route(actor.type, actor.id, this.hosts(actor.type));
      } catch {
        continue;
      }
      if (route && !('local' in route)) moved.push(actor);
    }
    if (moved.length > 0) this.options.logger.info(`actors: ${moved.length} active actor(s) now placed on another sidecar; deactivating them here`);
    await Promise.all(moved.map((a) => this.deactivate(a, 'rebalance')));
  }

  /** With `drainRebalancedActors`, waits up to `drainOngoingCallTimeout` for the actor's ongoing call. */
  private async drain(actor: ActiveActor, reason: 'shutdown' | 'rebalance'): Promise<void> {
    const config = this.types.get(actor.type);
    if (!config?.drainRebalancedActors || !actor.lock.busy) return;
    const key = actorKey(actor.type, actor.id);
    const cap = reason === 'shutdown' ? this.options.shutdownDrainCapMs : undefined;
    const waitMs = cap === undefined ? config.drainOngoingCallTimeoutMs : Math.min(cap, config.drainOngoingCallTimeoutMs);
    this.options.logger.info(`actors: draining ${key} (${reason}): waiting up to ${waitMs}ms for its ongoing call`);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), waitMs)));
    const late = await Promise.race([actor.lock.whenIdle().then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) this.options.logger.warn(`actors: ${key} still had a call running after drainOngoingCallTimeout; deactivating it anyway`);
  }

  private getOrCreate(type: string, id: string): ActiveActor {
    const key = actorKey(type, id);
    let actor = this.active.get(key);
    if (!actor) {
      const config = this.types.get(type);
      actor = { type, id, lock: new TurnLock(config?.reentrancy ?? { enabled: false, maxStackDepth: 32 }), idle: undefined, timers: new Map(), called: false };
      this.active.set(key, actor);
      this.touch(actor);
    }
    return actor;
  }

  /** Restarts the idle countdown of an actor. */
  private touch(actor: ActiveActor): void {
    const idleMs = this.types.get(actor.type)?.idleTimeoutMs ?? 3_600_000;
    if (actor.idle) {
      actor.idle.refresh();
      return;
    }
    actor.idle = setTimeout(() => {
      if (actor.lock.busy) {
        actor.idle?.refresh();
        return;
      }
      void this.deactivate(actor, 'idle');
    }, idleMs);
    actor.idle.unref();
  }

  /**
   * Deactivates an actor: refuses its new calls, then (when it is halted, not idle, and its type says
   * `drainRebalancedActors`) lets its ongoing call finish for up to `drainOngoingCallTimeout`, gives up
   * its placement claim and sends the app `DELETE /actors/{type}/{id}`.
   */
  private async deactivate(actor: ActiveActor, reason: 'idle' | 'shutdown' | 'rebalance'): Promise<void> {
    const key = actorKey(actor.type, actor.id);
    if (this.active.get(key) !== actor) return;
    this.active.delete(key);
    clearTimeout(actor.idle);
    for (const name of [...actor.timers.keys()]) this.clearTimer(actor, name);
    this.countTimers(actor.type);
    actor.lock.close();
    const { metrics, logger } = this.options;
    if (reason !== 'idle') await this.drain(actor, reason);
    void this.options.remote?.release?.(actor.type, actor.id).catch((err: unknown) => logger.debug(`releasing actor ${key} failed: ${errorMessage(err)}`));
    const channel = this.channel;
    // The JS SDK's app crashes on a DELETE for an actor it never activated.
    if (!channel || !actor.called) return;
    try {
      const res = await channel.call({ method: 'DELETE', path: `/actors/${seg(actor.type)}/${seg(actor.id)}`, signal: AbortSignal.timeout(reason === 'shutdown' ? 2_000 : 30_000) });
      if (res.status !== 200) {
        metrics?.deactivationFailedFor(actor.type, `status_code_${res.status}`);
        logger.debug(`deactivating actor ${key}: the app answered ${res.status}`);
        return;
      }
      metrics?.deactivatedOk(actor.type);
      logger.debug(`deactivated actor ${key}`);
    } catch (err) {
      metrics?.deactivationFailedFor(actor.type, 'invoke');
      logger.debug(`deactivating actor ${key} failed: ${errorMessage(err)}`);
    }
  }

  private async underLock<T>(type: string, id: string, reentrancyId: string | undefined, fn: (reentrancyId: string | undefined) => Promise<T>): Promise<T> {
    const { metrics } = this.options;
    // A deactivation can close the lock between lookup and acquire: retry on a fresh activation.
    for (let attempt = 0; ; attempt++) {
      const actor = this.getOrCreate(type, id);
      metrics?.pendingCalls(type, 1);
      let held: { release: () => void; reentrancyId: string | undefined };
      try {
        held = await actor.lock.acquire(reentrancyId);
      } catch (err) {
        if (err instanceof ActorClosedError && attempt < 3 && !this.closed) continue;
        if (err instanceof ActorClosedError) throw actorErrors.runtimeClosed();
        throw err;
      } finally {
        metrics?.pendingCalls(type, -1);
      }
      this.touch(actor);
      actor.called = true;
      try {
        return await fn(held.reentrancyId);
      } finally {
        held.release();
        this.touch(actor);
      }
    }
  }

  private async callApp(
    type: string,
    id: string,
    method: string,
    body: Buffer,
    headers: IncomingHttpHeaders | undefined,
    reentrancyId: string | undefined,
    query?: string,
  ): Promise<AppResponse> {
    const channel = this.channel;
    if (!channel) throw actorErrors.noAppChannel();
    const out = passThroughHeaders(headers ?? {}, ['content-length', 'dapr-api-token', REENTRANCY_HEADER, 'accept-encoding', HOP_HEADER]);
    if (reentrancyId) out['Dapr-Reentrancy-Id'] = reentrancyId;
    const path = `/actors/${seg(type)}/${seg(id)}/method/${method.split('/').map(seg).join('/')}`;
    try {
      return await channel.call({ method: 'PUT', path, headers: out, body, ...(query ? { query } : {}) });
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw actorErrors.invoke(errorMessage(err));
    }
  }

  private armTimer(actor: ActiveActor, timer: ActiveTimer): void {
    const wait = Math.max(0, timer.due - Date.now());
    timer.handle = setTimeout(() => void this.fireTimer(actor, timer), Math.min(wait, 2_147_483_647));
  }

  private async fireTimer(actor: ActiveActor, timer: ActiveTimer): Promise<void> {
    const { request } = timer;
    if (actor.timers.get(request.name) !== timer) return;
    if (timer.schedule.expiresAt !== undefined && Date.now() > timer.schedule.expiresAt) {
      this.clearTimer(actor, request.name);
      this.countTimers(actor.type);
      return;
    }
    const body = callbackBody(request.data, { callback: request.callback, dueTime: request.dueTime, period: request.period });
    let ok = false;
    let cancel = false;
    try {
      const res = await this.underLock(actor.type, actor.id, undefined, (id) =>
        this.callApp(actor.type, actor.id, `timer/${request.name}`, body, { 'content-type': 'application/json' }, id),
      );
      ok = res.status === 200;
      cancel = isTruthy(res.headers[REMINDER_CANCEL_HEADER]);
      if (!ok) this.options.logger.warn(`actor timer ${actorKey(actor.type, actor.id)}||${request.name}: the app answered ${res.status}`);
    } catch (err) {
      this.options.logger.warn(`actor timer ${actorKey(actor.type, actor.id)}||${request.name} failed: ${errorMessage(err)}`);
    }
    this.options.metrics?.timerFired(actor.type, ok);
    if (actor.timers.get(request.name) !== timer) return;
    timer.fired++;
    const next = cancel ? undefined : followingDue(timer.schedule, timer.due, timer.fired, Date.now());
    if (next === undefined) {
      this.clearTimer(actor, request.name);
      this.countTimers(actor.type);
      return;
    }
    timer.due = next;
    this.armTimer(actor, timer);
  }

  private clearTimer(actor: ActiveActor, name: string): void {
    const timer = actor.timers.get(name);
    if (!timer) return;
    clearTimeout(timer.handle);
    actor.timers.delete(name);
  }

  private countTimers(type: string): void {
    const metrics = this.options.metrics;
    if (!metrics) return;
    let count = 0;
    for (const a of this.active.values()) if (a.type === type) count += a.timers.size;
    metrics.activeTimers(type, count);
  }
}

/**
 * A timer or reminder callback body as daprd marshals `api.TimerResponse`/`api.ReminderResponse`:
 * `data` first (raw JSON, omitted when none), then the other fields.
 */
export function callbackBody(data: string | undefined, fields: Record<string, string>): Buffer {
  const parts: string[] = [];
  if (data !== undefined) parts.push(`"data":${data}`);
  for (const [name, value] of Object.entries(fields)) parts.push(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
  return Buffer.from(`{${parts.join(',')}}`);
}

function isTruthy(value: string | string[] | undefined): boolean {
  const v = (Array.isArray(value) ? value[0] : value)?.toLowerCase();
  return v === 'true' || v === '1' || v === 'yes' || v === 'y' || v === 'on';
}
