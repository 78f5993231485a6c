/**
 * The actor compatibility scenarios, run once per protocol (`actors-http.test.ts`,
 * `actors-grpc.test.ts`; one file each because the JS SDK's actor runtime is a per-process
 * singleton): `ActorProxyBuilder` calls, turn-based concurrency, state in Dapr's key layout, timers,
 * reminders (once-only, repeating with a TTL, unregistered), idle deactivation and error codes.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorId, ActorProxyBuilder, CommunicationProtocolEnum, DaprClient } from '@dapr/dapr';
import { CounterActor, IdleActor, actorEvents, nextEvent, startActorApp, turns } from './support/actor-app.js';
import type { ActorApp } from './support/actor-app.js';

interface Counter {
  increment(by: number): Promise<number>;
  count(): Promise<number>;
  slow(tag: string, waitMs: number): Promise<string>;
  startTimer(name: string, dueMs: number, periodMs: number, data: string): Promise<void>;
  stopTimer(name: string): Promise<void>;
  remind(name: string, dueMs: number, periodMs: number, ttlMs: number, data: string): Promise<void>;
  forget(name: string): Promise<void>;
  missing(): Promise<unknown>;
}

/** A timer or reminder callback as the actor saw it. */
type Fired = { id: string; raw: unknown };
type ReminderEvent = Fired;
type TimerEvent = Fired;

/** Registers the scenarios for one protocol. */
export function actorScenarios(mode: 'http' | 'grpc'): void {
  let app: ActorApp;
  let counters: ActorProxyBuilder<Counter>;
  let idlers: ActorProxyBuilder<Counter>;
  const api = (p: string) => `http://127.0.0.1:${app.weft.httpPort}/v1.0/actors${p}`;
  const uid = (label: string) => `${label}-${mode}-${Math.random().toString(36).slice(2, 8)}`;
  /**
   * The `name:payload` text of a callback. daprd keeps gRPC-registered data as the JSON string of its
   * base64 (`json.Marshal([]byte)`), so over gRPC the SDK hands the actor that base64 text.
   */
  const text = (e: Fired) => (mode === 'grpc' ? Buffer.from(String(e.raw), 'base64').toString('utf8') : String(e.raw));
  /**
   * The time unit of timer and reminder tests. The SDK sends Temporal durations as ISO-8601 over
   * gRPC (`PT0.1S`), and daprd's parser takes whole numbers only there, so gRPC cases use seconds.
   */
  const u = mode === 'grpc' ? 1000 : 100;
  const named = (id: string, name: string) => (e: Fired) => e.id === id && text(e).startsWith(`${name}:`);

  let grpcCounters: ActorProxyBuilder<Counter>;

  beforeAll(async () => {
    app = await startActorApp(mode, `actors-${mode}-${process.pid}`);
    // Proxies that pass arguments call over HTTP in both modes: daprd's gRPC InvokeActor hands the
    // app the arguments with no content type, so the SDK's HTTP actor server reads them as `{}`
    // (Weft does the same). The actors' own calls (state, timers, reminders) use `mode`.
    const http = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(app.weft.httpPort), communicationProtocol: CommunicationProtocolEnum.HTTP });
    const grpc = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(app.weft.grpcPort), communicationProtocol: CommunicationProtocolEnum.GRPC });
    counters = new ActorProxyBuilder<Counter>(CounterActor as never, http);
    idlers = new ActorProxyBuilder<Counter>(IdleActor as never, http);
    grpcCounters = new ActorProxyBuilder<Counter>(CounterActor as never, grpc);
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
  });

  describe(`actors over ${mode}`, () => {
    it('calls actor methods through ActorProxyBuilder and keeps state between calls', async () => {
      const actor = counters.build(new ActorId(uid('counter')));
      expect(await actor.increment(2)).toBe(2);
      expect(await actor.increment(3)).toBe(5);
      expect(await actor.count()).toBe(5);
    });

    it('calls a method over gRPC InvokeActor and returns its JSON result', async () => {
      const id = uid('grpc-invoke');
      await counters.build(new ActorId(id)).increment(4);
      expect(await grpcCounters.build(new ActorId(id)).count()).toBe(4);
    });

    it('stores actor state under {appId}||{actorType}||{actorId}||{key}, readable through the actor state API', async () => {
      const id = uid('layout');
      await counters.build(new ActorId(id)).increment(7);
      const res = await fetch(api(`/CounterActor/${id}/state/count`));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toBe(7);
      const db = new Database(path.join(app.dir, 'actors.sqlite'), { readonly: true });
      try {
        const row = db.prepare('SELECT value FROM state WHERE key = ?').get(`${app.appId}||CounterActor||${id}||count`) as { value: string } | undefined;
        expect(row?.value).toBe('7');
      } finally {
        db.close();
      }
      expect((await fetch(api(`/CounterActor/${id}/state/nothing`))).status).toBe(204);
    });

    it('runs one call at a time per actor id, in arrival order, and different ids side by side', async () => {
      const a = counters.build(new ActorId(uid('turn')));
      const b = counters.build(new ActorId(uid('turn')));
      turns.length = 0;
      const first = a.slow('a1', 150);
      await new Promise((r) => setTimeout(r, 20));
      const second = a.slow('a2', 10);
      const other = b.slow('b1', 10);
      expect(await Promise.all([first, second, other])).toEqual(['a1', 'a2', 'b1']);
      // b1 ran while a1 held its actor; a2 waited for a1 to leave.
      expect(turns.indexOf('leave b1')).toBeLessThan(turns.indexOf('leave a1'));
      expect(turns.indexOf('enter a2')).toBeGreaterThan(turns.indexOf('leave a1'));
    });

    it('fires a repeating timer with its data until it is unregistered', async () => {
      const id = uid('timer');
      const actor = counters.build(new ActorId(id));
      const fired: TimerEvent[] = [];
      let seen: (e: TimerEvent) => void = () => {};
      const ticks = new Promise<void>((resolve) => {
        seen = (e: TimerEvent) => {
          if (!named(id, 'tick')(e)) return;
          fired.push(e);
          if (fired.length === 3) resolve();
        };
      });
      actorEvents.on('timer', seen);
      await actor.startTimer('tick', u, u, 'payload');
      await ticks;
      expect(text(fired[0] as Fired)).toBe('tick:payload');
      await actor.stopTimer('tick');
      const countAtStop = fired.length;
      // A one-shot marker timer due after more than two periods: once it fires, the stopped one would have fired too.
      const marker = nextEvent<TimerEvent>('timer', named(id, 'marker'));
      await actor.startTimer('marker', 3 * u, 0, 'm');
      await marker;
      actorEvents.off('timer', seen);
      expect(fired.length).toBe(countAtStop);
    });

    it('fires a reminder without a period exactly once, then forgets it', async () => {
      const id = uid('once');
      const actor = counters.build(new ActorId(id));
      const fired: ReminderEvent[] = [];
      const seen = (e: ReminderEvent) => {
        if (named(id, 'once')(e)) fired.push(e);
      };
      actorEvents.on('reminder', seen);
      try {
        const first = nextEvent<ReminderEvent>('reminder', named(id, 'once'));
        await actor.remind('once', u, 0, 0, 'hello');
        expect(text(await first)).toBe('once:hello');
        const marker = nextEvent<ReminderEvent>('reminder', named(id, 'marker'));
        await actor.remind('marker', 3 * u, 0, 0, 'm');
        await marker;
        expect(fired).toHaveLength(1);
        const res = await fetch(api(`/CounterActor/${id}/reminders/once`));
        expect(res.status).toBe(404);
        expect(await res.json()).toMatchObject({ errorCode: 'ERR_ACTOR_REMINDER_NOT_FOUND' });
      } finally {
        actorEvents.off('reminder', seen);
      }
    });

    it('stops a repeating reminder at its TTL, and GET shows it while it lives', async () => {
      const id = uid('ttl');
      const actor = counters.build(new ActorId(id));
      const fired: ReminderEvent[] = [];
      const seen = (e: ReminderEvent) => {
        if (named(id, 'ttl')(e)) fired.push(e);
      };
      actorEvents.on('reminder', seen);
      try {
        await actor.remind('ttl', 2 * u, u, 3 * u, 'x');
        const res = await fetch(api(`/CounterActor/${id}/reminders/ttl`));
        expect(res.status).toBe(200);
        const body = (await res.json()) as Record<string, unknown>;
        expect(body).toMatchObject({ actorID: id, actorType: 'CounterActor', period: mode === 'http' ? '0.1s' : 'PT1S', data: mode === 'http' ? 'ttl:x' : Buffer.from('ttl:x').toString('base64') });
        expect(Date.parse(String(body['ttl']))).toBeGreaterThan(Date.now());
        // Due at 2u, every u, expiring 3u after the first due time: at most 4 fires; the marker comes after.
        const marker = nextEvent<ReminderEvent>('reminder', named(id, 'marker'), 15_000);
        await actor.remind('marker', 7 * u, 0, 0, 'm');
        await marker;
        expect(fired.length).toBeGreaterThanOrEqual(2);
        expect(fired.length).toBeLessThanOrEqual(4);
        expect((await fetch(api(`/CounterActor/${id}/reminders/ttl`))).status).toBe(404);
      } finally {
        actorEvents.off('reminder', seen);
      }
    }, 20_000);

    it('never fires a reminder that was unregistered before it was due', async () => {
      const id = uid('forget');
      const actor = counters.build(new ActorId(id));
      let forgotten = 0;
      const seen = (e: ReminderEvent) => {
        if (named(id, 'later')(e)) forgotten++;
      };
      actorEvents.on('reminder', seen);
      try {
        await actor.remind('later', 3 * u, 0, 0, 'never');
        await actor.forget('later');
        const marker = nextEvent<ReminderEvent>('reminder', named(id, 'marker'));
        await actor.remind('marker', 6 * u, 0, 0, 'm');
        await marker;
        expect(forgotten).toBe(0);
      } finally {
        actorEvents.off('reminder', seen);
      }
    });

    it('deactivates an idle actor (DELETE /actors/{type}/{id}) and reactivates it with its state', async () => {
      const id = uid('idle');
      const actor = idlers.build(new ActorId(id));
      const deactivated = nextEvent<{ id: string }>('deactivated', (e) => e.id === id);
      expect(await actor.increment(1)).toBe(1);
      await deactivated;
      expect(await actor.increment(1)).toBe(2);
    });

    it('answers 500 ERR_ACTOR_INVOKE_METHOD when the method does not exist on the actor', async () => {
      const res = await fetch(api(`/CounterActor/${uid('nomethod')}/method/missing`), { method: 'POST' });
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ errorCode: 'ERR_ACTOR_INVOKE_METHOD' });
    });
  });
}
