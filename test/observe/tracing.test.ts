/**
 * W3C trace context through the HTTP API, and server spans exported to a Zipkin collector and an
 * OTLP/HTTP collector (both played by tiny HTTP servers in the test).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRecordingApp } from '../support/recording-app.js';
import { componentYaml, zipkinTracingConfig } from '../support/resources.js';
import { startObservedSidecar } from './observe-env.js';
import type { ObservedSidecar } from './observe-env.js';

interface Collector {
  url: string;
  bodies: unknown[];
  close(): Promise<void>;
}

async function collector(): Promise<Collector> {
  const bodies: unknown[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      bodies.push({ path: req.url, body: JSON.parse(raw) as unknown });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const MEMORY_STORE = `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: memstore}\nspec: {type: state.in-memory, version: v1}\n`;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';

let zipkin: Collector;
let otlp: Collector;
let s: ObservedSidecar;

beforeAll(async () => {
  [zipkin, otlp] = await Promise.all([collector(), collector()]);
  s = await startObservedSidecar({
    resources: [MEMORY_STORE],
    config: `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: tracing}
spec:
  tracing:
    samplingRate: "1"
    zipkin: {endpointAddress: "${zipkin.url}/api/v2/spans"}
    otel: {endpointAddress: "${otlp.url.replace('http://', '')}", isSecure: false, protocol: http}
`,
  });
});

afterAll(async () => {
  await s?.stop();
  await Promise.all([zipkin?.close(), otlp?.close()]);
});

it('continues the caller trace, answers with its own traceparent and exports the span to Zipkin and OTLP', async () => {
  const res = await fetch(`${s.baseUrl}/v1.0/state/memstore/k`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01` } });
  expect(res.status).toBe(204);
  const traceparent = res.headers.get('traceparent') ?? '';
  expect(traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
  const spanId = traceparent.split('-')[2];
  expect(spanId).not.toBe(PARENT_SPAN);
  await s.sidecar.tracer?.flush();

  const zipkinSpans = zipkin.bodies.flatMap((b) => (b as { body: Record<string, unknown>[] }).body);
  expect(zipkinSpans).toContainEqual(
    expect.objectContaining({ traceId: TRACE_ID, id: spanId, parentId: PARENT_SPAN, name: '/v1.0/state/memstore/k', kind: 'SERVER', localEndpoint: { serviceName: 'observe-app' } }),
  );
  // daprd's state API attributes.
  const zipkinSpan = zipkinSpans.find((z) => z['id'] === spanId) as { tags: Record<string, string> };
  expect(zipkinSpan.tags).toMatchObject({ 'db.system': 'state', 'db.name': 'memstore', 'dapr.api': 'GET /v1.0/state/memstore/k', 'dapr.protocol': 'http', 'dapr.status_code': '204' });
  const otlpBody = otlp.bodies[0] as { path: string; body: { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] } };
  expect(otlpBody.path).toBe('/v1/traces');
  expect(otlpBody.body.resourceSpans[0]?.scopeSpans[0]?.spans[0]).toMatchObject({ traceId: TRACE_ID, spanId, parentSpanId: PARENT_SPAN, name: '/v1.0/state/memstore/k', kind: 2 });
});

it('does not export a span whose caller did not sample the trace', async () => {
  const before = zipkin.bodies.length;
  const res = await fetch(`${s.baseUrl}/v1.0/state/memstore/k`, { headers: { traceparent: `00-${'1'.repeat(32)}-${PARENT_SPAN}-00` } });
  expect(res.headers.get('traceparent')).toMatch(/^00-1{32}-[0-9a-f]{16}-00$/);
  await s.sidecar.tracer?.flush();
  expect(zipkin.bodies.length).toBe(before);
});

it('starts a new sampled trace for a request without traceparent when samplingRate is 1', async () => {
  const res = await fetch(`${s.baseUrl}/v1.0/state/memstore/k`, { headers: { traceparent: 'garbage' } });
  expect(res.headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  expect(res.headers.get('traceparent')).not.toContain(TRACE_ID);
});

it('traces each input binding delivery as a CLIENT span bindings/<name> whose context the app receives', async () => {
  const app = await startRecordingApp({ '/tick': { status: 200 } });
  const traced = await startObservedSidecar({
    resources: [componentYaml('tick', 'bindings.cron', { schedule: '@every 1s' })],
    appPort: app.port,
    config: zipkinTracingConfig(`${zipkin.url}/api/v2/spans`),
  });
  try {
    const deadline = Date.now() + 20_000;
    while (app.received('POST', '/tick').length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const [delivery] = app.received('POST', '/tick');
    const traceparent = String(delivery?.headers['traceparent'] ?? '');
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const [, traceId, spanId] = traceparent.split('-');
    await traced.sidecar.tracer?.flush();
    const spans = zipkin.bodies.flatMap((b) => (b as { body: Record<string, unknown>[] }).body);
    expect(spans).toContainEqual(expect.objectContaining({ traceId, id: spanId, name: 'bindings/tick', kind: 'CLIENT' }));
  } finally {
    await traced.stop();
    await app.close();
  }
});
