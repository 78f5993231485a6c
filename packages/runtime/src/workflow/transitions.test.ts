/** The lifecycle rules (`transitions.ts`), and the Redis backend's guard on a plan made from stale facts. */
import { afterAll, describe, expect, it } from 'vitest';
import { dropRedisWorkflowApps, newRedisWorkflowApp, openRedisWorkflowBackend } from '../../../../test/support/redis-workflows.js';
import { SERVICES, requireService } from '../../../../test/support/services.js';
import { ev } from './history.js';
import type { InstanceFacts, Transition } from './transitions.js';
import { planSuspend, planTerminate, purgeBatch, purgeStatuses, statusAfterStep, statusAfterStepLua, statusAfterStepSql } from './transitions.js';
import type { WorkflowStatus } from './types.js';
import { WORKFLOW_STATUSES } from './types.js';

const now = new Date('2026-01-01T00:00:00Z');
const facts = (status: WorkflowStatus, o: Partial<InstanceFacts> = {}): InstanceFacts => ({
  status,
  executionId: 'e1',
  started: true,
  parentInstanceId: null,
  parentTaskId: null,
  ...o,
});

describe('workflow lifecycle rules', () => {
  it('terminates every unfinished instance, with the end in its history and a message for its parent', () => {
    expect(planTerminate('x', undefined, null, now)).toEqual({ kind: 'unknown' });
    for (const status of ['COMPLETED', 'FAILED', 'TERMINATED'] as const) expect(planTerminate('x', facts(status), null, now)).toEqual({ kind: 'finished' });
    for (const status of ['PENDING', 'RUNNING', 'SUSPENDED'] as const) {
      const plan = planTerminate('x', facts(status, { parentInstanceId: 'p', parentTaskId: 7 }), '"why"', now);
      expect(plan.kind).toBe('apply');
      if (plan.kind !== 'apply') continue;
      const t = plan.transition;
      expect(t).toMatchObject({ status: 'TERMINATED', output: '"why"', finish: true, wakes: true, guard: { status, executionId: 'e1', started: true } });
      expect(t.appendHistory).toEqual([ev.executionTerminated('"why"', now), ev.executionCompleted('TERMINATED', '"why"', null, now)]);
      expect(t.parentMessage).toMatchObject({ instanceId: 'p', visibleAt: now, event: { subOrchestrationInstanceFailed: { taskScheduledId: 7 } } });
    }
    const orphan = planTerminate('x', facts('RUNNING'), null, now);
    expect(orphan.kind === 'apply' && orphan.transition.parentMessage).toBeNull();
  });

  it('suspends RUNNING and PENDING instances and resumes SUSPENDED ones to RUNNING once started, else PENDING; nothing else changes', () => {
    const next = (status: WorkflowStatus, suspended: boolean, started = true) => planSuspend('x', facts(status, { started }), suspended, now).transition?.status;
    expect(planSuspend('x', undefined, true, now)).toEqual({ previous: undefined });
    expect(next('RUNNING', true)).toBe('SUSPENDED');
    expect(next('PENDING', true, false)).toBe('SUSPENDED');
    expect(next('SUSPENDED', false, true)).toBe('RUNNING');
    expect(next('SUSPENDED', false, false)).toBe('PENDING');
    for (const status of ['SUSPENDED', 'COMPLETED', 'FAILED', 'TERMINATED'] as const) expect(next(status, true)).toBeUndefined();
    for (const status of ['RUNNING', 'PENDING', 'COMPLETED', 'FAILED', 'TERMINATED'] as const) expect(next(status, false)).toBeUndefined();
    expect(planSuspend('x', facts('RUNNING'), true, now)).toMatchObject({ previous: 'RUNNING', transition: { wakes: false, finish: false, appendHistory: [] } });
    expect(planSuspend('x', facts('SUSPENDED'), false, now)).toMatchObject({ previous: 'SUSPENDED', transition: { wakes: true } });
  });

  it('keeps a suspended instance suspended across a RUNNING step only, the same in TypeScript, SQL and Lua', () => {
    for (const current of WORKFLOW_STATUSES) {
      for (const requested of WORKFLOW_STATUSES) {
        expect(statusAfterStep(current, requested)).toBe(current === 'SUSPENDED' && requested === 'RUNNING' ? 'SUSPENDED' : requested);
      }
    }
    expect(statusAfterStepSql('cur.status', 'next_status')).toBe("CASE WHEN next_status = 'RUNNING' AND cur.status = 'SUSPENDED' THEN 'SUSPENDED' ELSE next_status END");
    expect(statusAfterStepLua('f[1]', 'status')).toBe("if status == 'RUNNING' and f[1] == 'SUSPENDED' then status = 'SUSPENDED' end");
  });

  it('purges finished instances only, in batches of at least one', () => {
    expect(purgeStatuses({})).toEqual(['COMPLETED', 'FAILED', 'TERMINATED']);
    expect(purgeStatuses({ statuses: ['RUNNING', 'FAILED'] })).toEqual(['FAILED']);
    expect(purgeStatuses({ statuses: ['SUSPENDED'] })).toEqual([]);
    expect(purgeBatch(undefined)).toBeUndefined();
    expect(purgeBatch(0)).toBe(1);
    expect(purgeBatch(2.7)).toBe(2);
  });
});

describe('Redis workflow backend: a transition planned from stale facts', () => {
  afterAll(() => dropRedisWorkflowApps());

  it('is refused and changes nothing, so the caller plans again', async () => {
    if (!(await requireService(SERVICES.redis, 'the Redis transition guard test'))) return;
    const b = await openRedisWorkflowBackend(newRedisWorkflowApp('transitions'));
    try {
      const executionId = 'e1';
      await b.createInstance({
        instanceId: 'g',
        name: 'wf',
        input: null,
        executionId,
        createdAt: now,
        scheduledStartAt: null,
        parentInstanceId: null,
        parentTaskId: null,
        startEvent: ev.executionStarted('g', 'wf', null, { executionId, at: now }),
      });
      const stale = planSuspend('g', facts('PENDING', { executionId, started: false }), true, now).transition!;
      const apply = (x: Transition) => (b as unknown as { apply(x: Transition): Promise<string[] | undefined> }).apply(x);
      // Suspended by someone else meanwhile: the plan's guard (PENDING) no longer holds.
      expect(await b.setSuspended('g', true, now)).toBe('PENDING');
      expect(await apply({ ...stale, status: 'RUNNING' })).toBeUndefined();
      expect((await b.getInstance('g'))?.status).toBe('SUSPENDED');
      // The same for a different execution or history, however the status reads.
      const resume = planSuspend('g', facts('SUSPENDED', { executionId, started: false }), false, now).transition!;
      expect(await apply({ ...resume, guard: { ...resume.guard, executionId: 'other' } })).toBeUndefined();
      expect(await apply({ ...resume, guard: { ...resume.guard, started: true } })).toBeUndefined();
      expect((await b.getInstance('g'))?.status).toBe('SUSPENDED');
      expect(await apply(resume)).toEqual([]);
      expect((await b.getInstance('g'))?.status).toBe('PENDING');
    } finally {
      await b.close();
    }
  });
});
