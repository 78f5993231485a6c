/**
 * An actor app on `@dapr/dapr` (the actor server is HTTP-only in the JS SDK) beside a real
 * `weft sidecar` process. The actors' own calls to the sidecar (state, timers, reminders) go over
 * HTTP or gRPC as the case asks, as do the test's `ActorProxyBuilder` calls. Actors report what
 * happens to them on {@link actorEvents}, so tests wait for events instead of sleeping.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AbstractActor, CommunicationProtocolEnum, DaprServer, LogLevel, Temporal } from '@dapr/dapr';
import { freePort, startWeftSidecar } from '../../support/weft-process.js';
import type { WeftProcess } from '../../support/weft-process.js';
import { CapturedLogs } from './compat-env.js';

/** What actors report: `timer`/`reminder` (id, raw data as the SDK passed it), `deactivated` (id). */
export const actorEvents = new EventEmitter();
actorEvents.setMaxListeners(100);

/** Entered/left records of {@link CounterActor.slow}, in order. */
export const turns: string[] = [];

const ms = (n: number) => Temporal.Duration.from({ milliseconds: n });

/** A counter with state, timers and reminders. */
export class CounterActor extends AbstractActor {
  async increment(by: number): Promise<number> {
    const [, current] = await this.getStateManager<number>().tryGetState('count');
    const next = (typeof current === 'number' ? current : 0) + by;
    await this.getStateManager<number>().setState('count', next);
    return next;
  }

  async count(): Promise<number> {
    const [, current] = await this.getStateManager<number>().tryGetState('count');
    return typeof current === 'number' ? current : 0;
  }

  async slow(tag: string, waitMs: number): Promise<string> {
    turns.push(`enter ${tag}`);
    await new Promise((r) => setTimeout(r, waitMs));
    turns.push(`leave ${tag}`);
    return tag;
  }

  /** Timer and reminder data is a string `name:payload`: the SDK hands callbacks the data only. */
  async startTimer(name: string, dueMs: number, periodMs: number, data: string): Promise<void> {
    await this.registerActorTimer(name, 'onTimer', ms(dueMs), periodMs > 0 ? ms(periodMs) : undefined, undefined, `${name}:${data}`);
  }

  async stopTimer(name: string): Promise<void> {
    await this.unregisterActorTimer(name);
  }

  async onTimer(state: unknown): Promise<void> {
    actorEvents.emit('timer', { id: this.getActorId().getId(), raw: state });
  }

  async remind(name: string, dueMs: number, periodMs: number, ttlMs: number, data: string): Promise<void> {
    await this.registerActorReminder(name, ms(dueMs), periodMs > 0 ? ms(periodMs) : undefined, ttlMs > 0 ? ms(ttlMs) : undefined, `${name}:${data}`);
  }

  async forget(name: string): Promise<void> {
    await this.unregisterActorReminder(name);
  }

  override async receiveReminder(state: unknown): Promise<void> {
    actorEvents.emit('reminder', { id: this.getActorId().getId(), raw: state });
  }

  override async onDeactivate(): Promise<void> {
    actorEvents.emit('deactivated', { id: this.getActorId().getId() });
  }
}

/** The same actor under a type that idles out after one second. */
export class IdleActor extends CounterActor {}

/** The running app and sidecar. */
export interface ActorApp {
  weft: WeftProcess;
  server: DaprServer;
  dir: string;
  appId: string;
  /** The protocol the actors and the test's proxies use toward the sidecar. */
  protocol: CommunicationProtocolEnum;
  stop(): Promise<void>;
}

/** Starts the sidecar (SQLite actor state store) and the actor app, and waits until the sidecar hosts the types. */
export async function startActorApp(mode: 'http' | 'grpc', appId: string): Promise<ActorApp> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `weft-actors-${mode}-`));
  await fs.mkdir(path.join(dir, 'resources'));
  await fs.writeFile(
    path.join(dir, 'resources', 'state.yaml'),
    `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: actorstore\nspec:\n  type: state.sqlite\n  version: v1\n  metadata:\n  - name: connectionString\n    value: ${path.join(dir, 'actors.sqlite')}\n  - name: actorStateStore\n    value: "true"\n`,
  );
  const appPort = await freePort();
  const weft = await startWeftSidecar(['--app-id', appId, '--log-level', 'warn', '--resources-path', path.join(dir, 'resources'), '--app-port', String(appPort)], { cwd: dir });
  const protocol = mode === 'grpc' ? CommunicationProtocolEnum.GRPC : CommunicationProtocolEnum.HTTP;
  const logger = { level: LogLevel.Error, service: new CapturedLogs() };
  const server = new DaprServer({
    serverHost: '127.0.0.1',
    serverPort: String(appPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    clientOptions: {
      daprHost: '127.0.0.1',
      daprPort: String(mode === 'grpc' ? weft.grpcPort : weft.httpPort),
      communicationProtocol: protocol,
      logger,
      actor: { actorIdleTimeout: '1h', entitiesConfig: [{ entities: ['IdleActor'], actorIdleTimeout: '1s' }] } as never,
    },
    logger,
  });
  await server.actor.init();
  await server.actor.registerActor(CounterActor);
  await server.actor.registerActor(IdleActor);
  await server.start();
  // The sidecar reads /dapr/config once it sees the app's port; wait until it lists the types.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const meta = (await (await fetch(`http://127.0.0.1:${weft.httpPort}/v1.0/metadata`)).json()) as { actors?: { type: string }[] };
    if ((meta.actors ?? []).some((a) => a.type === 'CounterActor')) break;
    if (Date.now() > deadline) throw new Error(`the sidecar never hosted CounterActor:\n${weft.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    weft,
    server,
    dir,
    appId,
    protocol,
    stop: async () => {
      await server.stop().catch(() => undefined);
      await weft.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves with the next event of `name` whose payload satisfies `match`. */
export function nextEvent<T>(name: string, match: (payload: T) => boolean, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      actorEvents.off(name, listener);
      reject(new Error(`no ${name} event within ${timeoutMs}ms`));
    }, timeoutMs);
    const listener = (payload: T) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      actorEvents.off(name, listener);
      resolve(payload);
    };
    actorEvents.on(name, listener);
  });
}
