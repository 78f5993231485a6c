/**
 * Input bindings: after the app is discovered, asks the app which input bindings it handles (HTTP:
 * `OPTIONS /{route}`, 2xx or 405 means yes; skipped when the component's `direction` already says
 * `input`), then starts those bindings and delivers each event through the app transport (HTTP:
 * `POST /{route}` with `Content-Type: application/json` and the event metadata as headers). The
 * app's optional reply saves state and/or invokes output bindings (see `reply.ts`).
 */
import type { ComponentManager, LoadedComponent } from '../../components/manager.js';
import { isInputBinding } from '../../components/bindings/binding.js';
import type { BindingEvent } from '../../components/bindings/binding.js';
import type { Logger } from '../../logging/logger.js';
import { inputBindingSpan } from '../../observability/messaging-spans.js';
import { bindingEventId, reportDeliveryError } from '../../observability/delivery-errors.js';
import type { WeftMetrics } from '../../observability/metrics.js';
import type { Tracer } from '../../observability/tracing.js';
import type { AttemptContext } from '../../resiliency/policy.js';
import type { Resiliency } from '../../resiliency/resiliency.js';
import type { StateBlock } from '../state/state-block.js';
import type { OutputBindings } from './output.js';
import { applyReply } from './reply.js';
import type { BindingAppTransport } from './app-transport.js';

/** What the runner needs. */
export interface InputBindingsDeps {
  components: ComponentManager;
  output: OutputBindings;
  state: StateBlock;
  logger: Logger;
  resiliency: () => Resiliency | undefined;
  metrics?: WeftMetrics;
  /** Read per event: a CLIENT span per delivery (`bindings/<name>`), its context sent to the app. */
  tracer?: () => Pick<Tracer, 'startSpanFromHeaders'> | undefined;
}

function directions(component: LoadedComponent): string[] | undefined {
  const raw = component.properties['direction'];
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw.split(',').map((d) => d.trim().toLowerCase());
}

/** Routes of the input bindings the app subscribed to, by binding name. */
export class InputBindingsRunner {
  private readonly started: string[] = [];
  private transport: BindingAppTransport | undefined;

  constructor(private readonly deps: InputBindingsDeps) {}

  /** Binding names that deliver to the app. */
  get active(): readonly string[] {
    return this.started;
  }

  /** Probes the app and starts reading every input binding it handles. */
  async start(transport: BindingAppTransport): Promise<void> {
    this.transport = transport;
    for (const component of this.deps.components.ofKind('bindings')) {
      const binding = component.instance;
      if (!isInputBinding(binding)) continue;
      const dirs = directions(component);
      if (dirs && !dirs.includes('input')) continue;
      const route = `/${(component.properties['route'] ?? component.name).replace(/^\/+/, '')}`;
      if (!dirs && !(await transport.handles(component.name, route))) {
        this.deps.logger.debug(`app does not handle input binding ${component.name} at ${route}`);
        continue;
      }
      try {
        await binding.read((event) => this.deliver(transport, component.name, route, event));
        this.started.push(component.name);
        this.deps.logger.info(`input binding ${component.name} delivers to ${route}`);
      } catch (err) {
        this.deps.logger.error(`cannot start input binding ${component.name}`, { error: (err as Error).message });
      }
    }
  }

  /** Releases the app transport (input bindings themselves stop when their components close). */
  async stop(): Promise<void> {
    await this.transport?.close?.();
  }

  private async deliver(transport: BindingAppTransport, name: string, route: string, event: BindingEvent): Promise<void> {
    const policy = this.deps.resiliency()?.policyFor({ kind: 'component', name, direction: 'inbound', componentKind: 'bindings' });
    const tracer = this.deps.tracer?.();
    const span = tracer ? inputBindingSpan(tracer, name, route, event.metadata) : undefined;
    // The app continues the delivery's trace (a driver may have carried the producer's `traceparent`).
    const traced: BindingEvent = span
      ? { ...event, metadata: { ...event.metadata, traceparent: span.traceparent, ...(span.tracestate ? { tracestate: span.tracestate } : {}) } }
      : event;
    const call = (attempt?: AttemptContext) => transport.deliver(name, route, traced, attempt?.signal);
    const started = performance.now();
    let reply: Awaited<ReturnType<typeof call>>;
    try {
      reply = policy ? await policy.execute(call) : await call();
      this.deps.metrics?.recordInputBinding(name, true, performance.now() - started);
      span?.end();
    } catch (err) {
      span?.end({ error: true, message: (err as Error).message });
      this.deps.metrics?.recordInputBinding(name, false, performance.now() - started);
      // Reported (and counted) here once; the driver only retries or drops it, without logging again.
      reportDeliveryError(this.deps, { block: 'bindings', component: name, eventId: bindingEventId(event.metadata), then: 'the binding retries or drops it' }, err);
      throw err;
    }
    if (reply) await applyReply(reply, { output: this.deps.output, state: this.deps.state, logger: this.deps.logger, binding: name });
  }
}
