/**
 * The gRPC app channel (`--app-protocol grpc`): HTTP-shaped app requests become
 * `AppCallback/OnInvoke` calls (method from the path, verb and query in `http_extension`, headers as
 * metadata) and the `InvokeResponse` becomes a 200 with its content type. A non-OK status is mapped
 * to an HTTP status with the JSON-encoded status as body, as Dapr does for HTTP callers of gRPC apps.
 */
import type { Readable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { loadDaprRuntimePackage } from '../api/grpc/protos.js';
import { httpStatusFromGrpc } from '../invoke/status-map.js';
import { setTraceMetadata } from '../observability/grpc-spans.js';
import { parseTraceparent } from '../observability/trace-context.js';
import type { AppChannel, AppRequest, AppResponse } from './app-channel.js';
import { AppUnreachableError } from './app-channel.js';
import { bulkStatusesAsJson, bulkTopicEventRequest, callUnary, errorResponse, jsonResponse, subscriptionsAsJson, topicEventRequest } from './grpc-pubsub.js';

/** Options of {@link GrpcAppChannel}. */
export interface GrpcAppChannelOptions {
  host: string;
  port: number;
  /** `APP_API_TOKEN`, sent as `dapr-api-token` metadata. */
  appApiToken?: string;
  /** Largest message either way. @default 4 MiB */
  maxMessageBytes?: number;
  /** Client interceptors of the `AppCallback` calls (metrics); health probes are not intercepted. */
  interceptors?: grpc.Interceptor[];
}

const VERBS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
const SKIPPED = new Set(['content-type', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'host', 'te', 'upgrade']);

interface ProtoInvokeResponse {
  data?: { value?: Buffer } | null;
  content_type?: string;
}

type UnaryMethod<Req, Res> = (request: Req, metadata: grpc.Metadata, callback: (err: grpc.ServiceError | null, response?: Res) => void) => void;

const headerValue = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

async function toBuffer(body: AppRequest['body']): Promise<Buffer> {
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body as Readable) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A channel to a gRPC app. */
export class GrpcAppChannel implements AppChannel {
  private readonly client: grpc.Client;
  private readonly health: grpc.Client;
  private readonly alpha: grpc.Client;
  /** Which bulk method the app implements, learnt on the first bulk delivery. */
  private bulkMethod: 'stable' | 'alpha' | 'none' = 'stable';
  readonly target: string;

  constructor(private readonly options: GrpcAppChannelOptions) {
    const runtime = (loadDaprRuntimePackage() as unknown as { dapr: { proto: { runtime: { v1: Record<string, grpc.ServiceClientConstructor> } } } }).dapr.proto.runtime.v1;
    this.target = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
    const max = options.maxMessageBytes ?? 4 * 1024 * 1024;
    const channelOptions = { 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max };
    const intercepted = options.interceptors ? { ...channelOptions, interceptors: options.interceptors } : channelOptions;
    this.client = new (runtime['AppCallback'] as grpc.ServiceClientConstructor)(this.target, grpc.credentials.createInsecure(), intercepted);
    this.health = new (runtime['AppCallbackHealthCheck'] as grpc.ServiceClientConstructor)(this.target, grpc.credentials.createInsecure(), channelOptions);
    this.alpha = new (runtime['AppCallbackAlpha'] as grpc.ServiceClientConstructor)(this.target, grpc.credentials.createInsecure(), intercepted);
  }

  private metadataOf(request: AppRequest): grpc.Metadata {
    const metadata = new grpc.Metadata();
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      if (SKIPPED.has(name)) continue;
      metadata.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    if (this.options.appApiToken) metadata.set('dapr-api-token', this.options.appApiToken);
    // The caller's span (this sidecar's CLIENT span) also goes out as `grpc-trace-bin`, as daprd sends it.
    const trace = parseTraceparent(headerValue(request.headers?.['traceparent']), headerValue(request.headers?.['tracestate']));
    if (trace) setTraceMetadata(metadata, trace);
    return metadata;
  }

  async call(request: AppRequest): Promise<AppResponse> {
    if (request.callback) return this.pubsubCallback(request);
    const metadata = this.metadataOf(request);
    const contentType = request.headers?.['content-type'];
    const verb = request.method.toUpperCase();
    const message = {
      method: request.path.replace(/^\/+/, ''),
      data: { type_url: '', value: await toBuffer(request.body) },
      content_type: (Array.isArray(contentType) ? contentType[0] : contentType) ?? '',
      http_extension: { verb: VERBS.has(verb) ? verb : 'NONE', querystring: request.query ?? '' },
    };
    const onInvoke = (this.client as unknown as { OnInvoke: UnaryMethod<typeof message, ProtoInvokeResponse> }).OnInvoke.bind(this.client);
    return new Promise<AppResponse>((resolve, reject) => {
      onInvoke(message, metadata, (err, response) => {
        if (err) {
          if (err.code === grpc.status.UNAVAILABLE) {
            reject(new AppUnreachableError(`app at ${this.target} is unreachable: ${err.details || err.message}`, { cause: err }));
            return;
          }
          const body = Buffer.from(JSON.stringify({ code: err.code, message: err.details, details: [] }));
          resolve({ status: httpStatusFromGrpc(err.code), headers: { 'content-type': 'application/json' }, body });
          return;
        }
        const data = response?.data?.value ?? Buffer.alloc(0);
        const headers: AppResponse['headers'] = {};
        if (response?.content_type) headers['content-type'] = response.content_type;
        resolve({ status: 200, headers, body: data });
      });
    });
  }

  /** Pub/sub callbacks: see `grpc-pubsub.ts` for the mapping to and from the HTTP shapes. */
  private async pubsubCallback(request: AppRequest): Promise<AppResponse> {
    const metadata = this.metadataOf(request);
    const { signal } = request;
    const callback = request.callback;
    if (!callback || callback.kind === 'subscriptions') {
      const { err, response } = await callUnary(this.client, 'ListTopicSubscriptions', {}, metadata, signal);
      return err ? errorResponse(err, this.target) : jsonResponse(subscriptionsAsJson(response));
    }
    const body = JSON.parse((await toBuffer(request.body)).toString('utf8')) as Record<string, unknown>;
    const { topic, pubsubName } = callback;
    if (callback.kind === 'topic-event') return this.topicEvent(topicEventRequest(body, request.path, topic, pubsubName), metadata, signal);
    const bulk = bulkTopicEventRequest(body, request.path, topic, pubsubName);
    // The SDK serves only the alpha method; daprd tries the stable one first and falls back on UNIMPLEMENTED.
    for (const [mode, client, method] of [['stable', this.client, 'OnBulkTopicEvent'], ['alpha', this.alpha, 'OnBulkTopicEventAlpha1']] as const) {
      if (this.bulkMethod !== mode) continue;
      const { err, response } = await callUnary(client, method, bulk, metadata, signal);
      if (err?.code === grpc.status.UNIMPLEMENTED) {
        this.bulkMethod = mode === 'stable' ? 'alpha' : 'none';
        continue;
      }
      return err ? errorResponse(err, this.target) : jsonResponse(bulkStatusesAsJson(response));
    }
    return this.bulkAsSingles(body, request.path, topic, pubsubName, metadata, signal);
  }

  private async topicEvent(message: object, metadata: grpc.Metadata, signal: AbortSignal | undefined): Promise<AppResponse> {
    const { err, response } = await callUnary(this.client, 'OnTopicEvent', message, metadata, signal);
    if (err) return errorResponse(err, this.target);
    // An unset status is SUCCESS (the proto's zero). A number outside the enum reaches us as a number:
    // it is passed on as that number in a string, an unknown status the block retries, as daprd does.
    const status = response?.['status'];
    return jsonResponse({ status: typeof status === 'number' ? String(status) : typeof status === 'string' ? status : 'SUCCESS' });
  }

  /** An app without a bulk method gets each entry through `OnTopicEvent`. */
  private async bulkAsSingles(envelope: Record<string, unknown>, path: string, topic: string, pubsubName: string, metadata: grpc.Metadata, signal: AbortSignal | undefined): Promise<AppResponse> {
    const entries = Array.isArray(envelope['entries']) ? (envelope['entries'] as Record<string, unknown>[]) : [];
    const statuses = await Promise.all(
      entries.map(async (entry) => {
        const event = typeof entry['event'] === 'object' && entry['event'] !== null ? (entry['event'] as Record<string, unknown>) : { data_base64: entry['event'], datacontenttype: 'application/octet-stream' };
        const res = await this.topicEvent(topicEventRequest(event, path, topic, pubsubName), metadata, signal);
        const status = res.status === 200 ? ((JSON.parse(res.body.toString('utf8')) as { status: string }).status) : res.status === 404 ? 'DROP' : 'RETRY';
        return { entryId: entry['entryId'], status };
      }),
    );
    return jsonResponse({ statuses });
  }

  /** `AppCallbackHealthCheck/HealthCheck`: resolves true when the app answers OK within `timeoutMs`. */
  probe(timeoutMs: number): Promise<boolean> {
    const check = (this.health as unknown as { HealthCheck: (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: Error | null) => void) => void }).HealthCheck.bind(this.health);
    const metadata = new grpc.Metadata();
    if (this.options.appApiToken) metadata.set('dapr-api-token', this.options.appApiToken);
    return new Promise((resolve) => check({}, metadata, { deadline: Date.now() + timeoutMs }, (err) => resolve(err === null)));
  }

  close(): Promise<void> {
    this.client.close();
    this.health.close();
    this.alpha.close();
    return Promise.resolve();
  }
}
