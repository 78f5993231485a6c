/**
 * The `AppCallback` calls a gRPC app gets besides `OnInvoke`: `ListInputBindings` and
 * `OnBindingEvent` for input bindings, and `AppCallbackAlpha/OnJobEventAlpha1` for job triggers.
 * Kept apart from `GrpcAppChannel`, which maps HTTP-shaped requests onto `OnInvoke`.
 */
import * as grpc from '@grpc/grpc-js';
import { loadDaprRuntimePackage } from '../api/grpc/protos.js';
import type { BindingAppTransport, BindingReply } from '../blocks/bindings/app-transport.js';
import type { AnyData } from '../jobs/any-value.js';
import { AppUnreachableError } from './app-channel.js';

/** Where the gRPC app listens. */
export interface GrpcCallbacksOptions {
  host: string;
  port: number;
  appApiToken?: string;
  maxMessageBytes?: number;
  /** Client interceptors of every call (metrics). */
  interceptors?: grpc.Interceptor[];
}

interface ProtoBindingEventResponse {
  store_name?: string;
  states?: { key: string; value?: Buffer }[];
  to?: string[];
  data?: Buffer;
  concurrency?: string;
}

type Unary = (request: object, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, response?: unknown) => void) => void;

/** Clients for the app's binding and job callbacks. */
export class GrpcAppCallbacks implements BindingAppTransport {
  private readonly callback: grpc.Client;
  private readonly alpha: grpc.Client;
  private bindings: Promise<Set<string>> | undefined;

  constructor(private readonly options: GrpcCallbacksOptions) {
    const runtime = (loadDaprRuntimePackage() as unknown as { dapr: { proto: { runtime: { v1: Record<string, grpc.ServiceClientConstructor> } } } }).dapr.proto.runtime.v1;
    const target = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
    const max = options.maxMessageBytes ?? 4 * 1024 * 1024;
    const channelOptions = {
      'grpc.max_receive_message_length': max,
      'grpc.max_send_message_length': max,
      ...(options.interceptors ? { interceptors: options.interceptors } : {}),
    };
    this.callback = new (runtime['AppCallback'] as grpc.ServiceClientConstructor)(target, grpc.credentials.createInsecure(), channelOptions);
    this.alpha = new (runtime['AppCallbackAlpha'] as grpc.ServiceClientConstructor)(target, grpc.credentials.createInsecure(), channelOptions);
  }

  private unary<T>(client: grpc.Client, method: string, request: object, timeoutMs?: number): Promise<T> {
    const metadata = new grpc.Metadata();
    if (this.options.appApiToken) metadata.set('dapr-api-token', this.options.appApiToken);
    const fn = (client as unknown as Record<string, Unary>)[method];
    if (!fn) return Promise.reject(new Error(`no method ${method}`));
    return new Promise((resolve, reject) => {
      fn.call(client, request, metadata, timeoutMs ? { deadline: Date.now() + timeoutMs } : {}, (err, response) => {
        if (err?.code === grpc.status.UNAVAILABLE) reject(new AppUnreachableError(`app is unreachable: ${err.details}`, { cause: err }));
        else if (err) reject(err);
        else resolve(response as T);
      });
    });
  }

  /** True when the app lists `binding` in `ListInputBindings` (asked once). */
  async handles(binding: string): Promise<boolean> {
    this.bindings ??= this.unary<{ bindings?: string[] }>(this.callback, 'ListInputBindings', {}, 5000).then(
      (r) => new Set(r.bindings ?? []),
      () => new Set<string>(),
    );
    return (await this.bindings).has(binding);
  }

  /** `OnBindingEvent`; a gRPC error means the app did not take the event. */
  async deliver(binding: string, _route: string, event: { data: Buffer; metadata: Record<string, string> }): Promise<BindingReply | undefined> {
    const r = await this.unary<ProtoBindingEventResponse>(this.callback, 'OnBindingEvent', { name: binding, data: event.data, metadata: event.metadata });
    const states = (r.states ?? []).map((s) => ({ key: s.key, value: s.value ?? Buffer.alloc(0) }));
    const to = r.to ?? [];
    if (!r.store_name && states.length === 0 && to.length === 0) return undefined;
    return {
      ...(r.store_name ? { storeName: r.store_name } : {}),
      state: states,
      to,
      concurrency: r.concurrency === 'PARALLEL' ? 'parallel' : 'sequential',
      data: r.data ?? Buffer.alloc(0),
    };
  }

  /** `OnJobEventAlpha1`; resolves `ok` when the app accepted the trigger, else the reason. */
  async triggerJob(name: string, data: AnyData | undefined): Promise<{ ok: true } | { ok: false; reason: string }> {
    try {
      await this.unary(this.alpha, 'OnJobEventAlpha1', {
        name,
        ...(data ? { data: { type_url: data.typeUrl, value: data.value } } : {}),
        method: `job/${name}`,
        content_type: 'application/json',
        http_extension: { verb: 'POST', querystring: '' },
      }, 30_000);
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  }

  close(): Promise<void> {
    this.callback.close();
    this.alpha.close();
    return Promise.resolve();
  }
}
