/**
 * The actors building block, transport-neutral: HTTP and gRPC adapters (`http-routes.ts`,
 * `grpc-methods.ts`) decode requests into these calls and render what they return or throw.
 * Validation and error codes follow daprd (`pkg/api/http/actors.go`, `pkg/api/universal/actors.go`).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AppChannel } from '../../appchannel/app-channel.js';
import { HttpAppChannel } from '../../appchannel/http-app-channel.js';
import type { ComponentManager } from '../../components/manager.js';
import type { ActorRuntimeStatus } from '../core/metadata.js';
import type { JobStore } from '../../jobs/job-store.js';
import type { Logger } from '../../logging/logger.js';
import { actorErrors, invalidName, normalizeMethod } from './actor-errors.js';
import type { ActorMetrics } from './actor-metrics.js';
import { ActorRuntime } from './actor-runtime.js';
import type { ActorAnswer, TimerRequest } from './actor-runtime.js';
import type { RetryPolicy } from '../../resiliency/retry.js';
import type { SidecarPlacement } from './local-placement.js';
import type { InternalActorHandler } from '../../invoke/internal-server.js';
import { ActorState } from './actor-state.js';
import type { ActorStateOperation, ActorStateValue } from './actor-state.js';
import { ActorReminders } from './reminders.js';
import type { ReminderRequest, StoredReminder } from './reminders.js';

/** What the block needs from the sidecar. */
export interface ActorsBlockOptions {
  appId: string;
  dataDir: string;
  components: ComponentManager;
  /** Durable reminder storage (the sidecar's job store kind: SQLite or Postgres); closed with the block. */
  reminderStore: JobStore;
  logger: Logger;
  /** The Configuration's `ActorStateTTL` feature. @default false */
  stateTtlEnabled?: boolean;
  metrics?: ActorMetrics | undefined;
  /** Placement across sidecars; without it actors run only where their app is. */
  placement?: SidecarPlacement | undefined;
  /** daprd's `DaprBuiltInActorNotFoundRetries` (see the runtime's `notFoundRetry`). */
  notFoundRetry?: RetryPolicy | undefined;
  /** The sidecar's graceful shutdown period: the longest a shutdown drains an actor. */
  shutdownDrainCapMs?: number | undefined;
}

/** A reminder as the API returns it. */
export interface ReminderView {
  actorType: string;
  actorId: string;
  dueTime?: string;
  period?: string;
  /** RFC 3339 expiry. */
  ttl?: string;
  /** Raw JSON text. */
  data?: string;
}

/** The actors block of one sidecar. */
export class ActorsBlock {
  readonly runtime: ActorRuntime;
  readonly state: ActorState;
  readonly reminders: ActorReminders;
  /** Serves actor calls from other sidecars on the internal port (undefined without placement). */
  readonly internalCalls: InternalActorHandler | undefined;

  constructor(private readonly options: ActorsBlockOptions) {
    const { logger } = options;
    this.runtime = new ActorRuntime({ logger: logger.child('weft.runtime.actors'), metrics: options.metrics, remote: options.placement, notFoundRetry: options.notFoundRetry, shutdownDrainCapMs: options.shutdownDrainCapMs });
    this.internalCalls = options.placement?.handler((call) => this.runtime.invokeForwarded(call));
    this.state = new ActorState({
      appId: options.appId,
      dataDir: options.dataDir,
      components: options.components,
      logger,
      ttlEnabled: options.stateTtlEnabled ?? false,
    });
    this.reminders = new ActorReminders(
      options.appId,
      options.reminderStore,
      { fire: (r) => this.runtime.fireReminder(r), ready: () => this.runtime.ready },
      logger.child('weft.runtime.actors'),
      options.metrics ? (type, ok) => options.metrics?.reminderFired(type, ok) : undefined,
    );
  }

  /** Reads the app's actor config (HTTP apps; actors have no gRPC app callbacks) and starts firing reminders. */
  async start(channel: AppChannel): Promise<void> {
    if (!(channel instanceof HttpAppChannel)) {
      this.options.logger.info('actors: the app speaks gRPC, which has no actor callbacks; it hosts no actors');
      this.runtime.hostNothing();
      this.reminders.start();
      return;
    }
    await this.runtime.start(channel);
    this.reminders.start();
  }

  /** Invokes an actor method. */
  async invoke(actorType: string, actorId: string, method: string, body: Buffer, headers: IncomingHttpHeaders = {}, query?: string): Promise<ActorAnswer> {
    for (const [name, value] of [['actorType', actorType], ['actorId', actorId]] as const) {
      const bad = invalidName(value);
      if (bad) throw actorErrors.badRequest(`invalid ${name}: ${bad}`);
    }
    let normalized: string;
    try {
      normalized = normalizeMethod(method);
    } catch (err) {
      throw actorErrors.badRequest((err as Error).message);
    }
    return this.runtime.invoke({ actorType, actorId, method: normalized, body, headers, ...(query ? { query } : {}) });
  }

  /** Reads an actor's state key. */
  getState(actorType: string, actorId: string, key: string): Promise<ActorStateValue | undefined> {
    return this.state.get(actorType, actorId, key);
  }

  /** Runs an actor state transaction; the actor must be active on this sidecar. */
  async transact(actorType: string, actorId: string, operations: readonly ActorStateOperation[]): Promise<void> {
    if (!this.runtime.isActive(actorType, actorId)) throw actorErrors.instanceMissing();
    await this.state.transact(actorType, actorId, operations);
  }

  /** Registers a timer. */
  createTimer(req: TimerRequest): void {
    const bad = invalidName(req.name);
    if (bad) throw actorErrors.badRequest(bad);
    this.runtime.createTimer(req);
  }

  /** Removes a timer. */
  deleteTimer(actorType: string, actorId: string, name: string): void {
    this.runtime.deleteTimer(actorType, actorId, name);
  }

  /** Registers a reminder. */
  async createReminder(req: ReminderRequest): Promise<void> {
    if (req.name === '') throw actorErrors.badRequest('reminder name cannot be empty');
    const bad = invalidName(req.name);
    if (bad) throw actorErrors.badRequest(bad);
    if (!this.runtime.hosts(req.actorType)) throw actorErrors.reminderNonHosted();
    const existed = await this.reminders.get(req.actorType, req.actorId, req.name);
    await this.reminders.create(req);
    if (!existed) this.options.metrics?.reminderRequests(req.actorType, 1);
  }

  /** Reads a reminder; 404 ERR_ACTOR_REMINDER_NOT_FOUND when there is none. */
  async getReminder(actorType: string, actorId: string, name: string): Promise<ReminderView> {
    if (!this.runtime.hosts(actorType)) throw actorErrors.reminderNonHosted();
    const r = await this.reminders.get(actorType, actorId, name);
    if (!r) throw actorErrors.reminderNotFound(name);
    return view(r);
  }

  /** Removes a reminder. */
  async deleteReminder(actorType: string, actorId: string, name: string): Promise<void> {
    if (!this.runtime.hosts(actorType)) throw actorErrors.reminderNonHosted();
    await this.reminders.delete(actorType, actorId, name);
  }

  /**
   * The reminders of a hosted type, or of one actor of it (gRPC `ListActorReminders`, daprd 1.17+).
   * As daprd's list (from its scheduler), the views carry no `ttl`.
   */
  async listReminders(actorType: string, actorId?: string): Promise<(ReminderView & { name: string })[]> {
    if (!this.runtime.hosts(actorType)) throw actorErrors.reminderNonHosted();
    const list = await this.reminders.list(actorType, actorId);
    return list.map((r) => {
      const { ttl: _ttl, ...rest } = view(r);
      return { name: r.name, ...rest };
    });
  }

  /** Removes the reminders of a hosted type, or of one actor of it (gRPC `UnregisterActorRemindersByType`). */
  async deleteReminders(actorType: string, actorId?: string): Promise<void> {
    if (!this.runtime.hosts(actorType)) throw actorErrors.reminderNonHosted();
    await this.reminders.deleteAll(actorType, actorId);
  }

  /**
   * The metadata API's `actorRuntime`, with daprd's fields and states. daprd's `placement` text is
   * `placement: connected`; Weft keeps those words (there is nothing to disconnect from) and says which
   * placement it uses instead of a placement service.
   */
  runtimeStatus(): ActorRuntimeStatus {
    if (!this.runtime.ready) return { runtimeStatus: 'INITIALIZING', hostReady: false };
    const active = this.activeActors();
    return {
      runtimeStatus: 'RUNNING',
      ...(active.length > 0 ? { activeActors: active } : {}),
      hostReady: true,
      placement: `placement: connected (weft: ${this.options.placement?.describe() ?? 'no placement; actors of this app only'})`,
    };
  }

  /** Active actors per hosted type (metadata API). */
  activeActors(): { type: string; count: number }[] {
    return this.runtime.activeCounts();
  }

  /** Stops reminders, deactivates active actors, closes the embedded state store and the reminder store. */
  async close(): Promise<void> {
    await this.reminders.close();
    await this.runtime.close();
    await this.state.close();
    await this.options.reminderStore.close();
    await this.options.placement?.close();
  }
}

function view(r: StoredReminder): ReminderView {
  return {
    actorType: r.actorType,
    actorId: r.actorId,
    ...(r.dueTime !== '' ? { dueTime: r.dueTime } : {}),
    ...(r.period !== '' ? { period: r.period } : {}),
    ...(r.expiresAt !== undefined ? { ttl: new Date(r.expiresAt).toISOString() } : {}),
    ...(r.data !== undefined ? { data: r.data } : {}),
  };
}
