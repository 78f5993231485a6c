/**
 * Output bindings, transport-neutral: finds the binding, checks the operation and runs it under the
 * component's outbound resiliency policy, recording Dapr's `output_binding` metrics.
 */
import type { ComponentManager } from '../../components/manager.js';
import { isOutputBinding } from '../../components/bindings/binding.js';
import type { InvokeRequest, InvokeResponse, OutputBinding } from '../../components/bindings/binding.js';
import { bindingErrors } from '../../errors/index.js';
import type { WeftMetrics } from '../../observability/metrics.js';
import type { Resiliency } from '../../resiliency/resiliency.js';
import { outputBindingSpan } from '../../observability/messaging-spans.js';
import type { Tracer } from '../../observability/tracing.js';

/** What the block needs. */
export interface OutputBindingsDeps {
  components: ComponentManager;
  /** Read lazily: the sidecar sets resiliency once resources are loaded. */
  resiliency: () => Resiliency | undefined;
  metrics?: WeftMetrics;
  /** Read lazily: a CLIENT span per call, whose context the component gets as `traceparent` metadata. */
  tracer?: () => Pick<Tracer, 'startSpanFromHeaders'> | undefined;
}

/** Invokes output bindings by name. */
export class OutputBindings {
  constructor(private readonly deps: OutputBindingsDeps) {}

  /** The loaded output binding called `name`, if any. */
  find(name: string): OutputBinding | undefined {
    const c = this.deps.components.get(name);
    return c?.kind === 'bindings' && isOutputBinding(c.instance) ? c.instance : undefined;
  }

  /**
   * Runs one operation; throws `ERR_INVOKE_OUTPUT_BINDING` for a missing operation, an unknown
   * binding, an unsupported operation or a failure of the backend.
   */
  async invoke(name: string, request: InvokeRequest): Promise<InvokeResponse | undefined> {
    if (request.operation === '') throw bindingErrors.invoke(name, 'operation field is missing from request');
    const binding = this.find(name);
    if (!binding) throw bindingErrors.invoke(name, `couldn't find output binding ${name}`);
    const supported = binding.operations();
    if (!supported.includes(request.operation)) {
      throw bindingErrors.invoke(name, `binding ${name} does not support operation ${request.operation}. supported operations:${supported.join(' ')}`);
    }
    const policy = this.deps.resiliency()?.policyFor({ kind: 'component', name, direction: 'outbound', componentKind: 'bindings' });
    const tracer = this.deps.tracer?.();
    const span = tracer ? outputBindingSpan(tracer, name, request.operation, request.metadata) : undefined;
    const call: InvokeRequest = span ? { ...request, metadata: { ...request.metadata, traceparent: span.traceparent, ...(span.tracestate ? { tracestate: span.tracestate } : {}) } } : request;
    const started = performance.now();
    try {
      const response = policy ? await policy.execute(({ signal }) => binding.invoke({ ...call, signal })) : await binding.invoke(call);
      this.deps.metrics?.recordComponentOp('output_binding', name, request.operation, true, performance.now() - started);
      span?.end();
      return response;
    } catch (err) {
      this.deps.metrics?.recordComponentOp('output_binding', name, request.operation, false, performance.now() - started);
      span?.end({ error: true, message: (err as Error).message });
      throw bindingErrors.invoke(name, (err as Error).message, err);
    }
  }
}
