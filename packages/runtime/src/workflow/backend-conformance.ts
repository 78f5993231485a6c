/**
 * The workflow backend conformance suite: the {@link WorkflowBackend} contract as tests, run against
 * every driver (in-memory reference, SQLite, Postgres, and every later one) by
 * `backend-conformance.test.ts`. A new driver is done when it passes this suite and the engine's
 * crash and failover tests. Each case opens fresh stores through the factory, so cases never see each
 * other's instances.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestContext } from 'vitest';
import type { ForkedInstance, NewInstance, OrchestrationStep, WorkflowBackend } from './backend.js';
import { ev } from './history.js';

/** Opens backends for one test: `open()` a store, `open(sameAs)` another handle on that store (a second replica). */
export interface BackendFactory {
  /** A fresh, empty store; undefined when its service is unavailable (the case then ends early). */
  open(): Promise<WorkflowBackend | undefined>;
  /** A second backend object on the store of `first` (another sidecar sharing the database). */
  share(first: WorkflowBackend): Promise<WorkflowBackend>;
}

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0 + ms);

function newInstance(instanceId: string, o: { name?: string; input?: string | null; createdAt?: Date; scheduledStartAt?: Date; parent?: { instanceId: string; taskId: number } } = {}): NewInstance {
  const createdAt = o.createdAt ?? at(0);
  const executionId = randomUUID();
  const name = o.name ?? 'wf';
  const input = o.input ?? null;
  return {
    instanceId,
    name,
    input,
    executionId,
    createdAt,
    scheduledStartAt: o.scheduledStartAt ?? null,
    parentInstanceId: o.parent?.instanceId ?? null,
    parentTaskId: o.parent?.taskId ?? null,
    startEvent: ev.executionStarted(instanceId, name, input, { executionId, at: createdAt }),
  };
}

/** A step that consumes everything the work item carried and appends it to history. */
export function stepFor(item: { instance: { instanceId: string; executionId: string }; messages: { seq: number; event: ReturnType<typeof ev.eventRaised> }[] }, changes: Partial<OrchestrationStep> = {}): OrchestrationStep {
  return {
    instanceId: item.instance.instanceId,
    executionId: item.instance.executionId,
    consumedSeqs: item.messages.map((m) => m.seq),
    resetHistory: false,
    appendHistory: item.messages.map((m) => m.event),
    status: 'RUNNING',
    output: null,
    customStatus: null,
    failure: null,
    activities: [],
    messages: [],
    newInstances: [],
    ...changes,
  };
}

const LEASE = 30_000;

/** Registers the suite for one driver. */
export function backendConformance(driver: string, factory: BackendFactory): void {
  const opened: WorkflowBackend[] = [];
  afterEach(async () => {
    for (const b of opened.splice(0).reverse()) await b.close();
  });
  const open = async () => {
    const b = await factory.open();
    if (b) opened.push(b);
    return b;
  };
  const share = async (first: WorkflowBackend) => {
    const b = await factory.share(first);
    opened.push(b);
    return b;
  };

  describe(`workflow backend conformance: ${driver}`, () => {
    it('creates an instance PENDING, refuses a duplicate of an unfinished one, and replaces a finished one', async () => {
      const b = await open();
      if (!b) return;
      expect(await b.createInstance(newInstance('a', { input: '1' }))).toBe(true);
      expect(await b.getInstance('a')).toMatchObject({ instanceId: 'a', name: 'wf', status: 'PENDING', input: '1', output: null, parentInstanceId: null });
      expect(await b.createInstance(newInstance('a', { input: '2' }))).toBe(false);
      expect((await b.getInstance('a'))?.input).toBe('1');
      await b.terminate('a', '"stop"', at(10));
      expect(await b.createInstance(newInstance('a', { input: '3' }))).toBe(true);
      expect(await b.getInstance('a')).toMatchObject({ status: 'PENDING', input: '3' });
      expect(await b.getHistory('a')).toEqual([]);
      expect(await b.getInstance('missing')).toBeUndefined();
    });

    it('hands out an instance to one owner at a time, with its history and visible inbox, until its lease expires', async () => {
      const b = await open();
      if (!b) return;
      const other = await share(b);
      await b.createInstance(newInstance('x'));
      const item = await b.lockNextOrchestration('one', LEASE, at(1));
      expect(item?.instance.instanceId).toBe('x');
      expect(item?.history).toEqual([]);
      expect(item?.messages.map((m) => Object.keys(m.event).includes('executionStarted'))).toEqual([true]);
      expect(await other.lockNextOrchestration('two', LEASE, at(2))).toBeUndefined();
      // Expired: the next owner gets it.
      expect((await other.lockNextOrchestration('two', LEASE, at(LEASE + 2)))?.instance.instanceId).toBe('x');
    });

    it('passes over the instances it is told to skip, and claims at most the activities asked for', async () => {
      const b = await open();
      if (!b) return;
      await b.createInstance(newInstance('held'));
      await b.createInstance(newInstance('free'));
      expect((await b.lockNextOrchestration('o', LEASE, at(1), new Set(['held'])))?.instance.instanceId).toBe('free');
      expect(await b.lockNextOrchestration('o', LEASE, at(1), new Set(['held']))).toBeUndefined();
      const item = (await b.lockNextOrchestration('o', LEASE, at(1), new Set()))!;
      expect(item.instance.instanceId).toBe('held');
      const activities = [1, 2, 3].map((taskId) => ({ taskId, name: 'a', input: null }));
      await b.commitStep('o', stepFor(item, { activities }), at(2));
      expect((await b.lockActivities('o', LEASE, at(3), 2)).map((a) => a.taskId)).toEqual([1, 2]);
      expect(await b.lockActivities('o', LEASE, at(3), 0)).toEqual([]);
      expect((await b.lockActivities('o', LEASE, at(3), 2)).map((a) => a.taskId)).toEqual([3]);
    });

    it('commits a step only for the lock holder and the execution it ran against, and unlocks', async () => {
      const b = await open();
      if (!b) return;
      await b.createInstance(newInstance('s'));
      const item = (await b.lockNextOrchestration('one', LEASE, at(1)))!;
      expect(await b.commitStep('intruder', stepFor(item), at(2))).toBe(false);
      expect(await b.commitStep('one', { ...stepFor(item), executionId: 'another' }, at(2))).toBe(false);
      // A refused commit by the holder released the lock: lock again and commit properly.
      const again = (await b.lockNextOrchestration('one', LEASE, at(3)))!;
      expect(await b.commitStep('one', stepFor(again, { customStatus: '"half"' }), at(4))).toBe(true);
      expect(await b.getInstance('s')).toMatchObject({ status: 'RUNNING', customStatus: '"half"' });
      expect((await b.getHistory('s')).length).toBe(1);
      // The inbox is consumed, and nothing else is due.
      expect(await b.lockNextOrchestration('one', LEASE, at(5))).toBeUndefined();
    });

    it('delivers inbox events in order, holds back timers until due, and keeps events that arrive while locked', async () => {
      const b = await open();
      if (!b) return;
      await b.createInstance(newInstance('e'));
      const first = (await b.lockNextOrchestration('o', LEASE, at(1)))!;
      expect(await b.enqueue({ instanceId: 'e', event: ev.eventRaised('during', '1', at(2)), visibleAt: at(2) })).toBe(true);
      const timer = ev.timerFired(1, at(5_000), at(5_000));
      expect(await b.commitStep('o', stepFor(first, { messages: [{ instanceId: 'e', event: timer, visibleAt: at(5_000) }] }), at(3))).toBe(true);
      const second = (await b.lockNextOrchestration('o', LEASE, at(4)))!;
      expect(second.messages.map((m) => m.event.eventRaised?.name)).toEqual(['during']);
      await b.commitStep('o', stepFor(second), at(5));
      expect(await b.lockNextOrchestration('o', LEASE, at(4_999))).toBeUndefined();
      expect((await b.nextWakeAt(at(10)))?.getTime()).toBe(at(5_000).getTime());
      await b.enqueue({ instanceId: 'e', event: ev.eventRaised('b', null, at(6)), visibleAt: at(6) });
      await b.enqueue({ instanceId: 'e', event: ev.eventRaised('c', null, at(7)), visibleAt: at(7) });
      const third = (await b.lockNextOrchestration('o', LEASE, at(5_001)))!;
      expect(third.messages.map((m) => m.event.eventRaised?.name ?? (m.event.timerFired ? 'timer' : '?'))).toEqual(['timer', 'b', 'c']);
      expect(third.history.length).toBe(2);
    });

    it('returns only the history after a known prefix of the same execution, and the whole history otherwise', async () => {
      const b = await open();
      if (!b) return;
      await b.createInstance(newInstance('k'));
      const first = (await b.lockNextOrchestration('o', LEASE, at(1)))!;
      const executionId = first.instance.executionId;
      const events = [ev.orchestratorStarted(at(1)), ev.eventRaised('a', null, at(1)), ev.eventRaised('b', null, at(1))];
      expect(await b.commitStep('o', stepFor(first, { appendHistory: events }), at(2))).toBe(true);
      const raise = async (n: number) => {
        await b.enqueue({ instanceId: 'k', event: ev.eventRaised(`e${n}`, null, at(n)), visibleAt: at(n) });
        const item = (await b.lockNextOrchestration('o', LEASE, at(n), undefined, () => hint))!;
        await b.releaseOrchestration('o', 'k');
        return item;
      };
      let hint = { executionId, length: 2 };
      // A backend may ignore the hint (the whole history), or honour it (the events after the prefix).
      const honoured = await raise(3);
      const full = (await b.getHistory('k')).map((e) => e.eventRaised?.name ?? 'started');
      const names = (item: { history: { eventRaised?: { name: string } | null }[] }) => item.history.map((e) => e.eventRaised?.name ?? 'started');
      if (honoured.historyFrom === undefined) expect(names(honoured)).toEqual(full);
      else expect([honoured.historyFrom, names(honoured)]).toEqual([2, full.slice(2)]);
      // Another execution, or a prefix longer than the history: never a partial history.
      hint = { executionId: 'another', length: 2 };
      const otherExecution = await raise(4);
      expect([otherExecution.historyFrom, names(otherExecution)]).toEqual([undefined, full]);
      hint = { executionId, length: 7 };
      const tooLong = await raise(5);
      expect([tooLong.historyFrom, names(tooLong)]).toEqual([undefined, full]);
    });

    it('creates a forked instance RUNNING with its history, activities, timers and children at once, and never over an existing id', async () => {
      const b = await open();
      if (!b) return;
      const executionId = randomUUID();
      const history = [ev.executionStarted('fork', 'wf', '1', { executionId, at: at(0) }), ev.taskScheduled(1, 'a', '"x"', at(0)), ev.timerCreated(2, at(9_000), at(0))];
      const fork: ForkedInstance = {
        instanceId: 'fork',
        name: 'wf',
        input: '1',
        executionId,
        createdAt: at(10),
        history,
        activities: [{ taskId: 1, name: 'a', input: '"x"' }],
        messages: [{ instanceId: 'fork', event: ev.timerFired(2, at(9_000), at(9_000)), visibleAt: at(9_000) }],
        newInstances: [newInstance('fork:0003', { name: 'child', parent: { instanceId: 'fork', taskId: 3 }, createdAt: at(10) })],
      };
      expect(await b.createForkedInstance(fork)).toBeUndefined();
      expect(await b.getInstance('fork')).toMatchObject({ status: 'RUNNING', name: 'wf', input: '1', executionId, parentInstanceId: null });
      expect(await b.getHistory('fork')).toEqual(history);
      expect(await b.getInstance('fork:0003')).toMatchObject({ status: 'PENDING', name: 'child', parentInstanceId: 'fork', parentTaskId: 3 });
      expect((await b.lockActivities('o', LEASE, at(11), 1))[0]).toMatchObject({ instanceId: 'fork', taskId: 1, name: 'a', input: '"x"', executionId, attempt: 1 });
      // The child's start is due now; the fork's own timer only at its time.
      expect((await b.lockNextOrchestration('o', LEASE, at(12)))?.instance.instanceId).toBe('fork:0003');
      expect(await b.lockNextOrchestration('o', LEASE, at(13))).toBeUndefined();
      expect((await b.lockNextOrchestration('o', LEASE, at(9_001)))?.messages.map((m) => m.event.timerFired?.timerId)).toEqual([2]);
      // An existing id, finished or not, of the instance or a child: nothing is created.
      await b.createInstance(newInstance('done'));
      await b.terminate('done', null, at(20));
      expect(await b.createForkedInstance({ ...fork, instanceId: 'done', newInstances: [] })).toBe('done');
      expect((await b.getInstance('done'))?.status).toBe('TERMINATED');
      const childTaken = { ...fork, instanceId: 'fork2', messages: [], activities: [] };
      expect(await b.createForkedInstance(childTaken)).toBe('fork:0003');
      expect(await b.getInstance('fork2')).toBeUndefined();
    });

    it('applies writes asked for together each on its own terms (group commit)', async () => {
      const b = await open();
      if (!b) return;
      // Starts of one turn, one of them a duplicate: the first wins.
      expect(await Promise.all([b.createInstance(newInstance('g1')), b.createInstance(newInstance('g2')), b.createInstance(newInstance('g1'))])).toEqual([
        true,
        true,
        false,
      ]);
      const one = (await b.lockNextOrchestration('o', LEASE, at(1)))!;
      const two = (await b.lockNextOrchestration('o', LEASE, at(1)))!;
      const activity = [{ taskId: 1, name: 'a', input: null }];
      // Steps of one turn: a refused one (not the lock holder) does not take the other down with it.
      expect(await Promise.all([b.commitStep('o', stepFor(one, { activities: activity }), at(2)), b.commitStep('intruder', stepFor(two), at(2))])).toEqual([true, false]);
      expect((await b.getHistory(one.instance.instanceId)).length).toBe(1);
      expect(await b.getHistory(two.instance.instanceId)).toEqual([]);
      // Results of one turn, one twice: stored once.
      const id = one.instance.instanceId;
      const results = await Promise.all([b.completeActivity(id, 1, ev.taskCompleted(1, '1', at(3)), at(3)), b.completeActivity(id, 1, ev.taskCompleted(1, '2', at(3)), at(3))]);
      expect(results.filter(Boolean)).toEqual([true]);
      const next = await b.lockNextOrchestration('o', LEASE, at(4));
      const forOne = next?.instance.instanceId === id ? next : await b.lockNextOrchestration('o', LEASE, at(4));
      expect(forOne?.messages.map((m) => m.event.taskCompleted?.taskScheduledId)).toEqual([1]);
    });

    it('refuses events for unknown and finished instances', async () => {
      const b = await open();
      if (!b) return;
      expect(await b.enqueue({ instanceId: 'nobody', event: ev.eventRaised('x', null), visibleAt: at(0) })).toBe(false);
      await b.createInstance(newInstance('done'));
      await b.terminate('done', null, at(1));
      expect(await b.enqueue({ instanceId: 'done', event: ev.eventRaised('x', null), visibleAt: at(2) })).toBe(false);
    });

    it('queues activities, leases the pushed ones to the committer, and completes each once', async () => {
      const b = await open();
      if (!b) return;
      const other = await share(b);
      await b.createInstance(newInstance('act'));
      const item = (await b.lockNextOrchestration('o', LEASE, at(1)))!;
      const activities = [1, 2, 3].map((taskId) => ({ taskId, name: `a${taskId}`, input: String(taskId) }));
      await b.commitStep('o', stepFor(item, { activities, lockActivities: { leaseMs: LEASE, max: 1 } }), at(2));
      // Task 1 is leased to "o"; the others are free for anyone, oldest first.
      const claimed = await other.lockActivities('p', LEASE, at(3), 10);
      expect(claimed).toMatchObject([
        { instanceId: 'act', taskId: 2, name: 'a2', input: '2', attempt: 1, executionId: item.instance.executionId },
        { instanceId: 'act', taskId: 3, attempt: 1 },
      ]);
      expect(await other.lockActivities('p', LEASE, at(3), 10)).toEqual([]);
      expect(await b.completeActivity('act', 2, ev.taskCompleted(2, '"two"', at(4)), at(4))).toBe(true);
      expect(await b.completeActivity('act', 2, ev.taskCompleted(2, '"again"', at(5)), at(5))).toBe(false);
      // Released: handed out again, as a later attempt.
      await other.releaseActivity('p', 'act', 3);
      expect(await b.lockActivities('o', LEASE, at(6), 10)).toMatchObject([{ taskId: 3, attempt: 2 }]);
      const batch = (await b.lockNextOrchestration('o', LEASE, at(7)))!;
      expect(batch.messages.map((m) => m.event.taskCompleted?.result)).toEqual([{ value: '"two"' }]);
    });

    /** A backend with the optional `completeActivityAndLock`; the case is skipped, saying why, on one without. */
    const openLocking = async (ctx: TestContext) => {
      const b = await open();
      if (b && !b.completeActivityAndLock) ctx.skip(`${driver} has no completeActivityAndLock (optional: the engine claims results afterwards)`);
      return b as (WorkflowBackend & Required<Pick<WorkflowBackend, 'completeActivityAndLock'>>) | undefined;
    };
    /** Instance `id` RUNNING, with activities 1..`tasks` queued by a committed first step; unlocked. */
    const withActivities = async (b: WorkflowBackend, id: string, tasks: number) => {
      await b.createInstance(newInstance(id));
      const item = (await b.lockNextOrchestration('o', LEASE, at(1)))!;
      const activities = Array.from({ length: tasks }, (_, k) => ({ taskId: k + 1, name: 'a', input: null }));
      await b.commitStep('o', stepFor(item, { activities, appendHistory: [...item.messages.map((m) => m.event), ev.orchestratorStarted(at(1))] }), at(2));
      return item.instance.executionId;
    };
    const done = (taskId: number, ms: number) => ev.taskCompleted(taskId, `"r${taskId}"`, at(ms));

    it('locks the instance of an accepted activity result to the completer when it is free, with every visible event and its history', async (ctx) => {
      const b = await openLocking(ctx);
      if (!b) return;
      const other = await share(b);
      const executionId = await withActivities(b, 'free', 2);
      await b.enqueue({ instanceId: 'free', event: ev.eventRaised('hello', null, at(3)), visibleAt: at(3) });
      await b.enqueue({ instanceId: 'free', event: ev.eventRaised('later', null, at(3)), visibleAt: at(LEASE) });
      const result = await b.completeActivityAndLock('free', 1, done(1, 4), at(4), { owner: 'me', leaseMs: LEASE });
      expect(result.accepted).toBe(true);
      const item = result.item!;
      expect(item.instance).toMatchObject({ instanceId: 'free', status: 'RUNNING', executionId });
      expect(item.historyFrom).toBeUndefined();
      expect(item.history).toEqual(await b.getHistory('free'));
      // The raised event and the result, in order; not the event visible only later.
      expect(item.messages.map((m) => m.event.eventRaised?.name ?? m.event.taskCompleted?.result?.value)).toEqual(['hello', '"r1"']);
      // Locked to "me" as a claim would: nobody else gets it, and "me" commits its step.
      expect(await other.lockNextOrchestration('p', LEASE, at(5))).toBeUndefined();
      expect(await b.commitStep('me', stepFor(item), at(6))).toBe(true);
      // The next result, with the history held: only what came after it (or the whole history).
      const held = await b.getHistory('free');
      const next = (await b.completeActivityAndLock('free', 2, done(2, 7), at(7), { owner: 'me', leaseMs: LEASE, known: () => ({ executionId, length: 1 }) })).item!;
      const history = next.historyFrom === undefined ? next.history : [...held.slice(0, next.historyFrom), ...next.history];
      expect(history).toEqual(held);
      expect(next.messages.map((m) => m.event.taskCompleted?.taskScheduledId)).toEqual([2]);
    });

    it('stores an activity result without locking an instance that is locked, suspended or finished, and locks nothing for a repeated one', async (ctx) => {
      const b = await openLocking(ctx);
      if (!b) return;
      const other = await share(b);
      const lock = { owner: 'me', leaseMs: LEASE };
      // Locked by another owner (a step in flight there): the result waits in the inbox for it.
      await withActivities(b, 'theirs', 3);
      await other.enqueue({ instanceId: 'theirs', event: ev.eventRaised('x', null, at(3)), visibleAt: at(3) });
      expect((await other.lockNextOrchestration('p', LEASE, at(3)))?.instance.instanceId).toBe('theirs');
      expect(await b.completeActivityAndLock('theirs', 1, done(1, 4), at(4), lock)).toEqual({ accepted: true });
      // Locked by the completer itself: its batch in flight is not taken again either.
      await other.releaseOrchestration('p', 'theirs');
      expect((await b.lockNextOrchestration('me', LEASE, at(5)))?.instance.instanceId).toBe('theirs');
      expect(await b.completeActivityAndLock('theirs', 2, done(2, 6), at(6), lock)).toEqual({ accepted: true });
      // A lease that expired is free, as for a claim.
      const expired = await b.completeActivityAndLock('theirs', 3, done(3, 5 + LEASE + 1), at(5 + LEASE + 1), { owner: 'next', leaseMs: LEASE });
      expect(expired.item?.messages.map((m) => m.event.taskCompleted?.taskScheduledId ?? 'raised')).toEqual(['raised', 1, 2, 3]);

      // Suspended: stored, not locked; resumed, a claim finds it.
      await withActivities(b, 'paused', 1);
      await b.setSuspended('paused', true, at(3));
      expect(await b.completeActivityAndLock('paused', 1, done(1, 4), at(4), lock)).toEqual({ accepted: true });
      expect(await other.lockNextOrchestration('p', LEASE, at(5))).toBeUndefined();
      await b.setSuspended('paused', false, at(6));
      expect((await other.lockNextOrchestration('p', LEASE, at(7)))?.messages.map((m) => m.event.taskCompleted?.taskScheduledId ?? 'resumed')).toEqual(
        expect.arrayContaining([1]),
      );

      // Finished: its tasks are gone, so the result is refused and nothing is locked.
      await withActivities(b, 'ended', 1);
      await b.terminate('ended', null, at(3));
      expect(await b.completeActivityAndLock('ended', 1, done(1, 4), at(4), lock)).toEqual({ accepted: false });
      expect((await b.getInstance('ended'))?.status).toBe('TERMINATED');

      // A repeated (late, duplicate) result: refused, and the free instance stays free for a claim.
      await withActivities(b, 'twice', 1);
      expect(await b.completeActivity('twice', 1, done(1, 4), at(4))).toBe(true);
      expect(await b.completeActivityAndLock('twice', 1, done(1, 5), at(5), lock)).toEqual({ accepted: false });
      const claimed = await other.lockNextOrchestration('p', LEASE, at(6));
      expect(claimed?.instance.instanceId).toBe('twice');
      expect(claimed?.messages.map((m) => m.event.taskCompleted?.result?.value)).toEqual(['"r1"']);
    });

    it('renews leases of an owner and releases an orchestration without changes', async () => {
      const b = await open();
      if (!b) return;
      const other = await share(b);
      await b.createInstance(newInstance('r'));
      await b.lockNextOrchestration('o', 1_000, at(1));
      await b.renewLeases('o', 10_000, at(900));
      expect(await other.lockNextOrchestration('p', LEASE, at(2_000))).toBeUndefined();
      await other.releaseOrchestration('p', 'r'); // not the holder: no effect
      expect(await other.lockNextOrchestration('p', LEASE, at(2_001))).toBeUndefined();
      await b.releaseOrchestration('o', 'r');
      expect((await other.lockNextOrchestration('p', LEASE, at(2_002)))?.instance.instanceId).toBe('r');
    });

    it('starts a scheduled instance no earlier than its start time', async () => {
      const b = await open();
      if (!b) return;
      await b.createInstance(newInstance('later', { scheduledStartAt: at(60_000) }));
      expect(await b.lockNextOrchestration('o', LEASE, at(1))).toBeUndefined();
      expect((await b.nextWakeAt(at(1)))?.getTime()).toBe(at(60_000).getTime());
      expect((await b.lockNextOrchestration('o', LEASE, at(60_000)))?.instance.instanceId).toBe('later');
    });

    it('keeps a suspended instance suspended across a step, and resumes to RUNNING or PENDING', async () => {
      const b = await open();
      if (!b) return;
      await b.createInstance(newInstance('p1'));
      expect(await b.setSuspended('p1', true, at(1))).toBe('PENDING');
      expect(await b.lockNextOrchestration('o', LEASE, at(2))).toBeUndefined();
      expect(await b.setSuspended('p1', false, at(3))).toBe('SUSPENDED');
      expect((await b.getInstance('p1'))?.status).toBe('PENDING');
      const item = (await b.lockNextOrchestration('o', LEASE, at(4)))!;
      await b.setSuspended('p1', true, at(5));
      expect(await b.commitStep('o', stepFor(item), at(6))).toBe(true);
      expect((await b.getInstance('p1'))?.status).toBe('SUSPENDED');
      await b.setSuspended('p1', false, at(7));
      expect((await b.getInstance('p1'))?.status).toBe('RUNNING');
      expect(await b.setSuspended('nobody', true, at(8))).toBeUndefined();
    });

    it('suspends only RUNNING and PENDING instances, resumes only SUSPENDED ones, and holds a suspended one back', async () => {
      const b = await open();
      if (!b) return;
      await b.createInstance(newInstance('s'));
      // Resuming an instance that is not suspended changes nothing.
      expect(await b.setSuspended('s', false, at(1))).toBe('PENDING');
      expect(await b.getInstance('s')).toMatchObject({ status: 'PENDING', lastUpdatedAt: at(0) });
      const item = (await b.lockNextOrchestration('o', LEASE, at(2)))!;
      await b.commitStep('o', stepFor(item), at(3));
      expect(await b.setSuspended('s', true, at(4))).toBe('RUNNING');
      expect(await b.getInstance('s')).toMatchObject({ status: 'SUSPENDED', lastUpdatedAt: at(4) });
      // Suspending twice changes nothing; events raised meanwhile wait for the resume.
      expect(await b.setSuspended('s', true, at(5))).toBe('SUSPENDED');
      expect((await b.getInstance('s'))?.lastUpdatedAt).toEqual(at(4));
      await b.enqueue({ instanceId: 's', event: ev.eventRaised('go', null, at(6)), visibleAt: at(6) });
      expect(await b.lockNextOrchestration('o', LEASE, at(7))).toBeUndefined();
      expect(await b.setSuspended('s', false, at(8))).toBe('SUSPENDED');
      expect(await b.getInstance('s')).toMatchObject({ status: 'RUNNING', lastUpdatedAt: at(8) });
      expect(await b.getHistory('s')).toHaveLength(1);
      const resumed = (await b.lockNextOrchestration('o', LEASE, at(9)))!;
      expect(resumed.messages.map((m) => m.event.eventRaised?.name)).toEqual(['go']);
      // A finished instance neither suspends nor resumes.
      await b.terminate('s', null, at(10));
      expect(await b.setSuspended('s', true, at(11))).toBe('TERMINATED');
      expect(await b.setSuspended('s', false, at(12))).toBe('TERMINATED');
      expect(await b.getInstance('s')).toMatchObject({ status: 'TERMINATED', lastUpdatedAt: at(10) });
    });

    it('resumes to RUNNING an instance whose first step committed while it was suspended, and lets a finishing step end it', async () => {
      const b = await open();
      if (!b) return;
      await b.createInstance(newInstance('late'));
      const first = (await b.lockNextOrchestration('o', LEASE, at(1)))!;
      expect(await b.setSuspended('late', true, at(2))).toBe('PENDING');
      expect(await b.commitStep('o', stepFor(first), at(3))).toBe(true);
      expect((await b.getInstance('late'))?.status).toBe('SUSPENDED');
      await b.setSuspended('late', false, at(4));
      expect((await b.getInstance('late'))?.status).toBe('RUNNING');
      // Suspended while a step that finishes it runs: the step still finishes it.
      await b.enqueue({ instanceId: 'late', event: ev.eventRaised('go', null, at(5)), visibleAt: at(5) });
      const last = (await b.lockNextOrchestration('o', LEASE, at(6)))!;
      await b.setSuspended('late', true, at(7));
      const completed = ev.executionCompleted('COMPLETED', '"ok"', null, at(8));
      expect(await b.commitStep('o', stepFor(last, { status: 'COMPLETED', output: '"ok"', appendHistory: [...stepFor(last).appendHistory, completed] }), at(8))).toBe(true);
      expect(await b.getInstance('late')).toMatchObject({ status: 'COMPLETED', output: '"ok"' });
    });

    it('terminates a suspended instance and a locked one: drops their pending work and refuses the lock holder\'s step', async () => {
      const b = await open();
      if (!b) return;
      await b.createInstance(newInstance('held'));
      const item = (await b.lockNextOrchestration('o', LEASE, at(1)))!;
      await b.commitStep('o', stepFor(item, { activities: [{ taskId: 1, name: 'a', input: null }], messages: [{ instanceId: 'held', event: ev.timerFired(2, at(9_000)), visibleAt: at(9_000) }] }), at(2));
      await b.setSuspended('held', true, at(3));
      expect(await b.terminate('held', '"bye"', at(4))).toEqual({ found: true, alreadyFinished: false, children: [] });
      expect(await b.getInstance('held')).toMatchObject({ status: 'TERMINATED', output: '"bye"', lastUpdatedAt: at(4) });
      expect(await b.lockActivities('o', LEASE, at(5), 10)).toEqual([]);
      expect(await b.lockNextOrchestration('o', LEASE, at(10_000))).toBeUndefined();
      expect(await b.nextWakeAt(at(5))).toBeUndefined();

      await b.createInstance(newInstance('busy', { createdAt: at(20_000) }));
      const busy = (await b.lockNextOrchestration('o', LEASE, at(20_001)))!;
      expect(busy.instance.instanceId).toBe('busy');
      expect((await b.terminate('busy', null, at(20_002))).found).toBe(true);
      expect(await b.commitStep('o', stepFor(busy), at(20_003))).toBe(false);
      expect(await b.getInstance('busy')).toMatchObject({ status: 'TERMINATED', output: null });
      expect((await b.getHistory('busy')).map((e) => Object.keys(e).find((k) => k === 'executionTerminated' || k === 'executionCompleted'))).toEqual([
        'executionTerminated',
        'executionCompleted',
      ]);
    });

    it('finishes an instance: drops its pending work, and refuses later steps', async () => {
      const b = await open();
      if (!b) return;
      await b.createInstance(newInstance('f'));
      const item = (await b.lockNextOrchestration('o', LEASE, at(1)))!;
      await b.commitStep('o', stepFor(item, { activities: [{ taskId: 1, name: 'a', input: null }] }), at(2));
      const again = await (async () => {
        await b.enqueue({ instanceId: 'f', event: ev.eventRaised('go', null, at(3)), visibleAt: at(3) });
        return (await b.lockNextOrchestration('o', LEASE, at(3)))!;
      })();
      const completed = ev.executionCompleted('COMPLETED', '"ok"', null, at(4));
      expect(await b.commitStep('o', stepFor(again, { status: 'COMPLETED', output: '"ok"', appendHistory: [...stepFor(again).appendHistory, completed] }), at(4))).toBe(true);
      expect(await b.getInstance('f')).toMatchObject({ status: 'COMPLETED', output: '"ok"' });
      expect(await b.lockActivities('o', LEASE, at(5), 10)).toEqual([]);
      expect(await b.completeActivity('f', 1, ev.taskCompleted(1, null, at(5)), at(5))).toBe(false);
      expect(await b.lockNextOrchestration('o', LEASE, at(6))).toBeUndefined();
    });

    it('continues as new: resets history, activities and timers, keeps events raised meanwhile', async () => {
      const b = await open();
      if (!b) return;
      await b.createInstance(newInstance('can', { input: '1' }));
      const item = (await b.lockNextOrchestration('o', LEASE, at(1)))!;
      await b.commitStep('o', stepFor(item, { activities: [{ taskId: 1, name: 'a', input: null }], messages: [{ instanceId: 'can', event: ev.timerFired(2, at(9_000)), visibleAt: at(9_000) }] }), at(2));
      await b.enqueue({ instanceId: 'can', event: ev.eventRaised('go', null, at(3)), visibleAt: at(3) });
      const next = (await b.lockNextOrchestration('o', LEASE, at(3)))!;
      // Raised while the step runs: not consumed by it, so it stays for the new execution.
      await b.enqueue({ instanceId: 'can', event: ev.eventRaised('kept', null, at(3)), visibleAt: at(3) });
      const newExecutionId = randomUUID();
      const restarted = ev.executionStarted('can', 'wf', '2', { executionId: newExecutionId, at: at(4) });
      expect(
        await b.commitStep('o', { ...stepFor(next), resetHistory: true, appendHistory: [], input: '2', newExecutionId, messages: [{ instanceId: 'can', event: restarted, visibleAt: at(4) }] }, at(4)),
      ).toBe(true);
      expect(await b.getInstance('can')).toMatchObject({ input: '2', executionId: newExecutionId });
      expect(await b.getHistory('can')).toEqual([]);
      expect(await b.lockActivities('o', LEASE, at(5), 10)).toEqual([]);
      const fresh = (await b.lockNextOrchestration('o', LEASE, at(10_000)))!;
      expect(fresh.messages.map((m) => (m.event.executionStarted ? 'started' : (m.event.eventRaised?.name ?? (m.event.timerFired ? 'timer' : '?'))))).toEqual(['kept', 'started']);
    });

    it('creates children and delivers messages only to unfinished instances', async () => {
      const b = await open();
      if (!b) return;
      await b.createInstance(newInstance('parent'));
      await b.createInstance(newInstance('gone'));
      await b.terminate('gone', null, at(1));
      const item = (await b.lockNextOrchestration('o', LEASE, at(2)))!;
      const child = newInstance('parent:0001', { parent: { instanceId: 'parent', taskId: 1 }, createdAt: at(3) });
      await b.commitStep(
        'o',
        stepFor(item, {
          newInstances: [child],
          messages: [
            { instanceId: 'gone', event: ev.eventRaised('late', null, at(3)), visibleAt: at(3) },
            { instanceId: 'parent:0001', event: ev.eventRaised('hello', null, at(3)), visibleAt: at(3) },
          ],
        }),
        at(3),
      );
      expect(await b.getInstance('parent:0001')).toMatchObject({ status: 'PENDING', parentInstanceId: 'parent', parentTaskId: 1 });
      const childItem = (await b.lockNextOrchestration('o', LEASE, at(4)))!;
      expect(childItem.instance.instanceId).toBe('parent:0001');
      expect(childItem.messages.map((m) => (m.event.executionStarted ? 'started' : m.event.eventRaised?.name))).toEqual(['started', 'hello']);
      expect(await b.lockNextOrchestration('o', LEASE, at(5))).toBeUndefined();
    });

    it('terminates: records the end, tells the parent, names the unfinished children', async () => {
      const b = await open();
      if (!b) return;
      await b.createInstance(newInstance('top'));
      await b.createInstance(newInstance('mid', { parent: { instanceId: 'top', taskId: 3 } }));
      await b.createInstance(newInstance('leaf', { parent: { instanceId: 'mid', taskId: 1 } }));
      expect(await b.terminate('mid', '"why"', at(1))).toEqual({ found: true, alreadyFinished: false, children: ['leaf'] });
      expect(await b.getInstance('mid')).toMatchObject({ status: 'TERMINATED', output: '"why"' });
      expect((await b.getHistory('mid')).map((e) => Object.keys(e).find((k) => k === 'executionTerminated' || k === 'executionCompleted'))).toEqual([
        'executionTerminated',
        'executionCompleted',
      ]);
      expect(await b.terminate('mid', null, at(2))).toEqual({ found: true, alreadyFinished: true, children: [] });
      expect(await b.terminate('nobody', null, at(2))).toEqual({ found: false });
      const parentItem = (await b.lockNextOrchestration('o', LEASE, at(3)))!;
      expect(parentItem.instance.instanceId).toBe('top');
      expect(parentItem.messages.some((m) => m.event.subOrchestrationInstanceFailed?.taskScheduledId === 3)).toBe(true);
    });

    it('lists newest first with filters and continuation tokens', async () => {
      const b = await open();
      if (!b) return;
      for (let i = 0; i < 5; i++) await b.createInstance(newInstance(`list-${i}`, { name: i % 2 === 0 ? 'even' : 'odd', createdAt: at(i * 1000) }));
      await b.createInstance(newInstance('other-0', { createdAt: at(500) }));
      await b.terminate('list-4', null, at(10_000));
      const first = await b.listInstances({ instanceIdPrefix: 'list-' }, 2);
      expect(first.instances.map((i) => i.instanceId)).toEqual(['list-4', 'list-3']);
      const second = await b.listInstances({ instanceIdPrefix: 'list-' }, 2, first.continuationToken);
      expect(second.instances.map((i) => i.instanceId)).toEqual(['list-2', 'list-1']);
      const last = await b.listInstances({ instanceIdPrefix: 'list-' }, 2, second.continuationToken);
      expect(last.instances.map((i) => i.instanceId)).toEqual(['list-0']);
      expect(last.continuationToken).toBeUndefined();
      expect((await b.listInstances({ name: 'even', statuses: ['PENDING'] }, 10)).instances.map((i) => i.instanceId)).toEqual(['list-2', 'list-0']);
      expect((await b.listInstances({ createdFrom: at(1000), createdTo: at(2000) }, 10)).instances.map((i) => i.instanceId)).toEqual(['list-2', 'list-1']);
      expect((await b.listInstances({ statuses: ['TERMINATED'] }, 10)).instances.map((i) => i.instanceId)).toEqual(['list-4']);
    });

    it('lists and counts several statuses at once, newest first across them, with continuation tokens', async () => {
      const b = await open();
      if (!b) return;
      for (let i = 0; i < 6; i++) await b.createInstance(newInstance(`multi-${i}`, { createdAt: at(i * 1000) }));
      await b.terminate('multi-1', null, at(10_000));
      await b.terminate('multi-4', null, at(10_000));
      await b.setSuspended('multi-2', true, at(10_000));
      const statuses: ('PENDING' | 'TERMINATED')[] = ['PENDING', 'TERMINATED'];
      const first = await b.listInstances({ statuses }, 3);
      expect(first.instances.map((i) => i.instanceId)).toEqual(['multi-5', 'multi-4', 'multi-3']);
      const rest = await b.listInstances({ statuses }, 3, first.continuationToken);
      expect(rest.instances.map((i) => i.instanceId)).toEqual(['multi-1', 'multi-0']);
      expect(rest.continuationToken).toBeUndefined();
      expect(await b.countInstances({ statuses })).toEqual({ PENDING: 3, TERMINATED: 2 });
      expect(await b.countInstances({ statuses: ['PENDING', 'SUSPENDED'], createdFrom: at(2000) })).toEqual({ PENDING: 2, SUSPENDED: 1 });
    });

    it('counts instances per status exactly, with and without filters, and lists those changed since a time', async () => {
      const b = await open();
      if (!b) return;
      for (let i = 0; i < 4; i++) await b.createInstance(newInstance(`count-${i}`, { name: i < 3 ? 'a' : 'b', createdAt: at(i) }));
      await b.terminate('count-0', null, at(100));
      await b.setSuspended('count-1', true, at(101));
      expect(await b.countInstances({})).toEqual({ PENDING: 2, TERMINATED: 1, SUSPENDED: 1 });
      expect(await b.countInstances({ name: 'a' })).toEqual({ PENDING: 1, TERMINATED: 1, SUSPENDED: 1 });
      expect(await b.countInstances({ statuses: ['PENDING'], instanceIdPrefix: 'count-' })).toEqual({ PENDING: 2 });
      await b.purge('count-0');
      expect(await b.countInstances({})).toEqual({ PENDING: 2, SUSPENDED: 1 });
      const recent = await b.recentInstances(at(50));
      expect(recent.map((r) => [r.name, r.status, r.updatedAt])).toEqual([['a', 'SUSPENDED', at(101).getTime()]]);
      expect((await b.recentInstances(at(0))).length).toBe(3);
    });

    it('purges finished instances with their children, never unfinished ones, in bounded batches', async () => {
      const b = await open();
      if (!b) return;
      await b.createInstance(newInstance('old'));
      await b.createInstance(newInstance('old:child', { parent: { instanceId: 'old', taskId: 1 } }));
      await b.terminate('old:child', null, at(1));
      await b.terminate('old', null, at(2));
      await b.createInstance(newInstance('running'));
      expect(await b.purge('running')).toBe(0);
      expect(await b.purge('old')).toBe(2);
      expect(await b.getInstance('old:child')).toBeUndefined();
      for (let i = 0; i < 3; i++) {
        await b.createInstance(newInstance(`batch-${i}`));
        await b.terminate(`batch-${i}`, null, at(3));
      }
      expect(await b.purgeWhere({ instanceIdPrefix: 'batch-' }, 2)).toBe(2);
      expect(await b.purgeWhere({ instanceIdPrefix: 'batch-', statuses: ['RUNNING'] })).toBe(0);
      expect(await b.purgeWhere({ instanceIdPrefix: 'batch-' })).toBe(1);
      expect((await b.listInstances({}, 10)).instances.map((i) => i.instanceId)).toEqual(['running']);
    });

    it('never purges an unfinished instance, suspended or pending, nor the unfinished children of a finished one', async () => {
      const b = await open();
      if (!b) return;
      await b.createInstance(newInstance('pending'));
      await b.createInstance(newInstance('paused'));
      await b.setSuspended('paused', true, at(1));
      await b.createInstance(newInstance('ended'));
      await b.createInstance(newInstance('ended:alive', { parent: { instanceId: 'ended', taskId: 1 } }));
      await b.createInstance(newInstance('ended:gone', { parent: { instanceId: 'ended', taskId: 2 } }));
      await b.terminate('ended:gone', null, at(2));
      // Terminated alone: its parent hears of it, its running sibling stays.
      await b.terminate('ended', null, at(3));
      expect(await b.purge('pending')).toBe(0);
      expect(await b.purge('paused')).toBe(0);
      expect(await b.purge('nobody')).toBe(0);
      expect(await b.purgeWhere({ statuses: ['PENDING', 'SUSPENDED', 'RUNNING'] })).toBe(0);
      expect(await b.purge('ended')).toBe(2);
      expect((await b.listInstances({}, 10)).instances.map((i) => i.instanceId).sort()).toEqual(['ended:alive', 'paused', 'pending']);
      expect(await b.getInstance('ended:alive')).toMatchObject({ status: 'PENDING', parentInstanceId: 'ended' });
    });

    it('reports instances idle with work waiting, and RUNNING ones waiting for nothing, but not locked or finished ones', async () => {
      const b = await open();
      if (!b) return;
      await b.createInstance(newInstance('running', { createdAt: at(0) }));
      await b.createInstance(newInstance('waiting', { createdAt: at(0) }));
      await b.createInstance(newInstance('finished', { createdAt: at(0) }));
      await b.terminate('finished', null, at(1));
      // "running" runs a step that leaves nothing pending (it waits for an external event).
      const runningItem = (await b.lockNextOrchestration('o', LEASE, at(1)))!;
      expect(runningItem.instance.instanceId).toBe('running');
      await b.commitStep('o', stepFor(runningItem), at(2));
      const idle = await b.idleWithPendingWork(at(60_000), at(120_000));
      const byId = new Map(idle.map((i) => [i.instanceId, i]));
      expect(byId.get('waiting')?.nothingPending).toBeFalsy();
      expect(byId.get('waiting')?.idleSince.getTime()).toBe(at(0).getTime());
      expect(byId.get('running')?.nothingPending).toBe(true);
      expect(byId.has('finished')).toBe(false);
      // Progress after the threshold: not idle.
      expect((await b.idleWithPendingWork(at(1), at(120_000))).map((i) => i.instanceId)).toEqual(['waiting']);
    });
  });
}
