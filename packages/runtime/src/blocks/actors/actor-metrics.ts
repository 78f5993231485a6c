/**
 * Actor metrics with daprd's names and labels (`pkg/diagnostics/service_monitoring.go`):
 * `dapr_runtime_actor_*`, labelled by `app_id` and `actor_type`.
 */
import { Counter, Gauge } from '../../observability/prom-client.js';
import type { Registry } from '../../observability/prom-client.js';

/** The recorders the actor runtime calls. */
export class ActorMetrics {
  private readonly deactivated: Counter;
  private readonly deactivationFailed: Counter;
  private readonly pending: Gauge;
  private readonly timers: Gauge;
  private readonly reminders: Gauge;
  private readonly remindersFired: Counter;
  private readonly timersFired: Counter;
  private readonly pendingByType = new Map<string, number>();

  constructor(registry: Registry, private readonly appId: string) {
    const registers = [registry];
    this.deactivated = new Counter({ name: 'dapr_runtime_actor_deactivated_total', help: 'The number of the successful actor deactivation.', labelNames: ['app_id', 'actor_type'], registers });
    this.deactivationFailed = new Counter({ name: 'dapr_runtime_actor_deactivated_failed_total', help: 'The number of the failed actor deactivation.', labelNames: ['app_id', 'actor_type', 'reason'], registers });
    this.pending = new Gauge({ name: 'dapr_runtime_actor_pending_actor_calls', help: 'The number of pending actor calls waiting to acquire the per-actor lock.', labelNames: ['app_id', 'actor_type'], registers });
    this.timers = new Gauge({ name: 'dapr_runtime_actor_timers', help: 'The number of actor timer requests.', labelNames: ['app_id', 'actor_type'], registers });
    this.reminders = new Gauge({ name: 'dapr_runtime_actor_reminders', help: 'The number of actor reminder requests.', labelNames: ['app_id', 'actor_type'], registers });
    this.remindersFired = new Counter({ name: 'dapr_runtime_actor_reminders_fired_total', help: 'The number of actor reminders fired requests.', labelNames: ['app_id', 'actor_type', 'success'], registers });
    this.timersFired = new Counter({ name: 'dapr_runtime_actor_timers_fired_total', help: 'The number of actor timers fired requests.', labelNames: ['app_id', 'actor_type', 'success'], registers });
  }

  deactivatedOk(actorType: string): void {
    this.deactivated.inc({ app_id: this.appId, actor_type: actorType });
  }

  deactivationFailedFor(actorType: string, reason: string): void {
    this.deactivationFailed.inc({ app_id: this.appId, actor_type: actorType, reason });
  }

  /** A call starts (+1) or stops (-1) waiting for an actor's lock. */
  pendingCalls(actorType: string, delta: number): void {
    const value = (this.pendingByType.get(actorType) ?? 0) + delta;
    this.pendingByType.set(actorType, value);
    this.pending.set({ app_id: this.appId, actor_type: actorType }, value);
  }

  activeTimers(actorType: string, count: number): void {
    this.timers.set({ app_id: this.appId, actor_type: actorType }, count);
  }

  reminderRequests(actorType: string, delta: number): void {
    this.reminders.inc({ app_id: this.appId, actor_type: actorType }, delta);
  }

  reminderFired(actorType: string, success: boolean): void {
    this.remindersFired.inc({ app_id: this.appId, actor_type: actorType, success: String(success) });
  }

  timerFired(actorType: string, success: boolean): void {
    this.timersFired.inc({ app_id: this.appId, actor_type: actorType, success: String(success) });
  }
}
