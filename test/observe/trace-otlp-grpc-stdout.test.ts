/**
 * Span export over OTLP/gRPC (`tracing.otel.protocol: grpc`, Dapr's usual setting for a collector
 * on 4317), received by an in-test collector serving `TraceService/Export`, and `tracing.stdout`,
 * which logs each span in daprd's format on the `weft.runtime.trace` logger.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startObservedSidecar } from './observe-env.js';
import type { ObservedSidecar } from './observe-env.js';

interface KeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string; boolValue?: boolean };
}
interface OtlpSpan {
  traceId: Buffer;
  spanId: Buffer;
  parentSpanId: Buffer;
  name: string;
  kind: number;
  attributes: KeyValue[];
}
interface ExportRequest {
  resourceSpans: { resource: { attributes: KeyValue[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

const MEMORY_STORE = `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: memstore}\nspec: {type: state.in-memory, version: v1}\n`;
const TRACE_ID = '5bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b8';

const exports: { request: ExportRequest; tenant: unknown }[] = [];
let collector: grpc.Server;
let s: ObservedSidecar;

beforeAll(async () => {
  const proto = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/otlp/trace_service.proto');
  const definition = protoLoader.loadSync(proto, { longs: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    opentelemetry: { proto: { collector: { trace: { v1: { TraceService: { service: grpc.ServiceDefinition } } } } } };
  };
  collector = new grpc.Server();
  collector.addService(pkg.opentelemetry.proto.collector.trace.v1.TraceService.service, {
    Export: (call: grpc.ServerUnaryCall<ExportRequest, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      exports.push({ request: call.request, tenant: call.metadata.get('x-tenant')[0] });
      cb(null, {});
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    collector.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  s = await startObservedSidecar({
    resources: [MEMORY_STORE],
    config: `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: tracing}
spec:
  tracing:
    samplingRate: "1"
    stdout: true
    otel:
      endpointAddress: "127.0.0.1:${port}"
      isSecure: false
      protocol: grpc
      headers: [{name: x-tenant, value: acme}]
`,
  });
}, 30_000);

afterAll(async () => {
  await s?.stop();
  collector?.forceShutdown();
});

it('exports spans over OTLP/gRPC with the service name, parent link, kind, attributes and configured headers', async () => {
  const res = await fetch(`${s.baseUrl}/v1.0/state/memstore/k`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01` } });
  expect(res.status).toBe(204);
  const spanId = (res.headers.get('traceparent') ?? '').split('-')[2];
  await s.sidecar.tracer?.flush();

  const match = exports.flatMap((e) =>
    e.request.resourceSpans.flatMap((rs) =>
      rs.scopeSpans.flatMap((ss) => ss.spans.filter((sp) => sp.spanId.toString('hex') === spanId).map((span) => ({ span, resource: rs.resource, tenant: e.tenant }))),
    ),
  );
  expect(match).toHaveLength(1);
  const { span, resource, tenant } = match[0]!;
  expect(tenant).toBe('acme');
  expect(resource.attributes).toContainEqual(expect.objectContaining({ key: 'service.name', value: expect.objectContaining({ stringValue: 'observe-app' }) }));
  expect(span.traceId.toString('hex')).toBe(TRACE_ID);
  expect(span.parentSpanId.toString('hex')).toBe(PARENT_SPAN);
  expect(span.name).toBe('/v1.0/state/memstore/k');
  expect(span.kind).toBe(2); // SPAN_KIND_SERVER
  const attrs = Object.fromEntries(span.attributes.map((a) => [a.key, a.value.stringValue]));
  expect(attrs).toMatchObject({ 'db.system': 'state', 'db.name': 'memstore', 'dapr.protocol': 'http', 'dapr.status_code': '204' });
});

it('logs each span on stdout in daprd format: name, trace id, parent/span id and times', async () => {
  const res = await fetch(`${s.baseUrl}/v1.0/state/memstore/other`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01` } });
  const spanId = (res.headers.get('traceparent') ?? '').split('-')[2];
  await s.sidecar.tracer?.flush();
  const lines = s.logs().filter((l) => l['scope'] === 'weft.runtime.trace');
  const line = lines.find((l) => String(l['msg']).includes(`/${spanId}`));
  expect(line?.['level']).toBe('info');
  expect(String(line?.['msg'])).toMatch(
    new RegExp(`^\\[/v1\\.0/state/memstore/other\\] Trace: ${TRACE_ID} Span: ${PARENT_SPAN}/${spanId} Time: \\[\\d{4}-\\d\\d-\\d\\dT[^ ]+ ->  \\d{4}-\\d\\d-\\d\\dT[^ ]+\\] Annotations: \\[\\]$`),
  );
});
