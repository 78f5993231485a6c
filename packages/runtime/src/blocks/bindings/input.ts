/**
 * Input bindings: after the app is discovered, probes `OPTIONS /{route}` for every input binding
 * (2xx or 405 means the app handles it, unless the component's `direction` already says `input`),
 * then delivers each event as `POST /{route}` with `Content-Type: application/json`, the event
 * metadata as headers and the raw event bytes as the body. The app must answer 200; its optional
 * reply body saves state and/or invokes output bindings (see `reply.ts`).
 */
import type { AppChannel } from '../../appchannel/app-channel.js';
import type { ComponentManager, LoadedComponent } from '../../components/manager.js';
import { isInputBinding } from '../../components/bindings/binding.js';
import type { BindingEvent } from '../../components/bindings/binding.js';
import type { Logger } from '../../logging/logger.js';
import type { WeftMetrics } from '../../observability/metrics.js';
import type { Resiliency } from '../../resiliency/resiliency.js';
import type { StateBlock } from '../state.js';
import type { OutputBindings } from './output.js';
import { applyReply } from './reply.js';

/** What the runner needs. */
export interface InputBindingsDeps {
  components: ComponentManager;
  output: OutputBindings;
  state: StateBlock;
  logger: Logger;
  resiliency: () => Resiliency | undefined;
  metrics?: WeftMetrics;
}

/** Thrown when the app does not take an event (non-200). */
export class AppRejectedEventError extends Error {
  constructor(binding: string, status: number) {
    super(`app returned status ${status} for binding ${binding}`);
    this.name = 'AppRejectedEventError';
  }
}

function directions(component: LoadedComponent): string[] | undefined {
  const raw = component.properties['direction'];
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw.split(',').map((d) => d.trim().toLowerCase());
}

/** Routes of the input bindings the app subscribed to, by binding name. */
export class InputBindingsRunner {
  private readonly started: string[] = [];

  constructor(private readonly deps: InputBindingsDeps) {}

  /** Binding names that deliver to the app. */
  get active(): readonly string[] {
    return this.started;
  }

  /** Probes the app and starts reading every input binding it handles. */
  async start(channel: AppChannel): Promise<void> {
    for (const component of this.deps.components.ofKind('bindings')) {
      const binding = component.instance;
      if (!isInputBinding(binding)) continue;
      const dirs = directions(component);
      if (dirs && !dirs.includes('input')) continue;
      const route = `/${(component.properties['route'] ?? component.name).replace(/^\/+/, '')}`;
      if (!dirs && !(await this.probe(channel, route))) {
        this.deps.logger.debug(`app does not handle input binding ${component.name} at ${route}`);
        continue;
      }
      try {
        await binding.read((event) => this.deliver(channel, component.name, route, event));
        this.started.push(component.name);
        this.deps.logger.info(`input binding ${component.name} delivers to ${route}`);
      } catch (err) {
        this.deps.logger.error(`cannot start input binding ${component.name}`, { error: (err as Error).message });
      }
    }
  }

  private async probe(channel: AppChannel, route: string): Promise<boolean> {
    try {
      const res = await channel.call({ method: 'OPTIONS', path: route, signal: AbortSignal.timeout(5000) });
      return (res.status >= 200 && res.status < 300) || res.status === 405;
    } catch {
      return false;
    }
  }

  private async deliver(channel: AppChannel, name: string, route: string, event: BindingEvent): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const [k, v] of Object.entries(event.metadata)) headers[k] = v;
    const policy = this.deps.resiliency()?.policyFor({ kind: 'component', name, direction: 'inbound', componentKind: 'bindings' });
    const call = async () => {
      const res = await channel.call({ method: 'POST', path: route, headers, body: event.data });
      if (res.status !== 200) throw new AppRejectedEventError(name, res.status);
      return res;
    };
    const started = performance.now();
    let body: Buffer;
    try {
      body = (policy ? await policy.execute(call) : await call()).body;
      this.deps.metrics?.recordInputBinding(name, true, performance.now() - started);
    } catch (err) {
      this.deps.metrics?.recordInputBinding(name, false, performance.now() - started);
      this.deps.logger.warn(`delivery of input binding ${name} failed`, { error: (err as Error).message });
      throw err;
    }
    await applyReply(body, { output: this.deps.output, state: this.deps.state, logger: this.deps.logger, binding: name });
  }
}
