/** When a backend tells other replicas about work it made (Postgres NOTIFY, Redis PUBLISH). */
import type { OrchestrationStep } from './backend.js';

/**
 * Whether a committed step left work that another replica may pick up: an event for another instance
 * due now, a child to start, or activities beyond those leased to the committing sidecar. (Its own
 * instance's next events are the committing engine's to look at; future timers are found by polls.)
 */
export function madeWorkForOthers(step: OrchestrationStep, now: Date): boolean {
  const leased = step.lockActivities ? Math.min(step.lockActivities.max, step.activities.length) : 0;
  return (
    step.newInstances.length > 0 ||
    step.activities.length > leased ||
    step.messages.some((m) => m.instanceId !== step.instanceId && m.visibleAt.getTime() <= now.getTime())
  );
}
