/**
 * In-process tier: the output-binding HTTP API (status codes, error codes, data re-serialisation)
 * over `bindings.http` pointing at a local app, and input bindings (`bindings.cron`) delivering to a
 * real HTTP app: the OPTIONS probe, the POST with headers, and the reply body that saves state and
 * calls an output binding.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { startRecordingApp } from '../support/recording-app.js';
import type { RecordingApp } from '../support/recording-app.js';
import { eventually } from '../support/subscriber-app.js';
import { componentYaml } from '../support/resources.js';

const STATE = `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: kv}
spec: {type: state.in-memory, version: v1}
`;

let sidecar: TestSidecar | undefined;
let app: RecordingApp | undefined;
afterEach(async () => {
  await sidecar?.stop();
  await app?.close();
  sidecar = undefined;
  app = undefined;
});

const invoke = (s: TestSidecar, name: string, body: string) =>
  fetch(`${s.baseUrl}/v1.0/bindings/${name}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

describe('output bindings over HTTP', () => {
  it('sends data re-serialised as JSON and answers 200 with the response body and metadata.* headers', async () => {
    app = await startRecordingApp({ '/orders/7': { status: 201, body: '{"ok":true}' } });
    sidecar = await startTestSidecar({ resources: [componentYaml('web', 'bindings.http', { url: `http://127.0.0.1:${app.port}` })] });
    const res = await invoke(sidecar, 'web', JSON.stringify({ operation: 'post', data: 'hello', metadata: { path: '/orders/7', 'x-tenant': 't1' } }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(res.headers.get('metadata.statuscode')).toBe('201');
    const [received] = app.received('POST', '/orders/7');
    // A JSON string stays a JSON string: the component receives the quotes too, as in Dapr.
    expect(received?.body).toBe('"hello"');
    expect(received?.headers['x-tenant']).toBe('t1');
  });

  it('answers 500 ERR_INVOKE_OUTPUT_BINDING for an unknown binding and keeps serving', async () => {
    sidecar = await startTestSidecar({ resources: [STATE] });
    const res = await invoke(sidecar, 'nope', JSON.stringify({ operation: 'create', data: 1 }));
    expect(res.status).toBe(500);
    const body = (await res.json()) as { errorCode: string; message: string };
    expect(body.errorCode).toBe('ERR_INVOKE_OUTPUT_BINDING');
    expect(body.message).toContain("couldn't find output binding nope");
    expect((await fetch(`${sidecar.baseUrl}/v1.0/healthz`)).status).toBe(204);
  });

  it('answers 400 ERR_MALFORMED_REQUEST for a body that is not JSON or has non-string metadata', async () => {
    sidecar = await startTestSidecar({ resources: [componentYaml('web', 'bindings.http', { url: 'http://127.0.0.1:9' })] });
    for (const body of ['{not json', JSON.stringify({ operation: 'get', metadata: { n: 1 } })]) {
      const res = await invoke(sidecar, 'web', body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errorCode: string }).errorCode).toBe('ERR_MALFORMED_REQUEST');
    }
  });

  it('answers 500 ERR_INVOKE_OUTPUT_BINDING for an unsupported or missing operation', async () => {
    sidecar = await startTestSidecar({ resources: [componentYaml('web', 'bindings.http', { url: 'http://127.0.0.1:9' })] });
    const unknown = await invoke(sidecar, 'web', JSON.stringify({ operation: 'launch' }));
    expect(unknown.status).toBe(500);
    expect(((await unknown.json()) as { message: string }).message).toContain('does not support operation launch');
    const missing = await invoke(sidecar, 'web', JSON.stringify({ data: 1 }));
    expect(missing.status).toBe(500);
    expect(((await missing.json()) as { message: string }).message).toContain('operation field is missing');
  });

  it('reports INPUT_BINDING and OUTPUT_BINDING capabilities in the metadata API', async () => {
    sidecar = await startTestSidecar({
      resources: [componentYaml('web', 'bindings.http', { url: 'http://127.0.0.1:9' }), componentYaml('tick', 'bindings.cron', { schedule: '@every 1h' })],
    });
    const meta = (await (await fetch(`${sidecar.baseUrl}/v1.0/metadata`)).json()) as { components: { name: string; capabilities: string[] }[] };
    expect(meta.components.find((c) => c.name === 'web')?.capabilities).toEqual(['OUTPUT_BINDING']);
    expect(meta.components.find((c) => c.name === 'tick')?.capabilities).toEqual(['INPUT_BINDING']);
  });
});

describe('input bindings', () => {
  it('probes OPTIONS, then delivers cron events repeatedly as POST with application/json and cron headers', async () => {
    app = await startRecordingApp({ '/tick': { status: 200 } });
    sidecar = await startTestSidecar({ resources: [componentYaml('tick', 'bindings.cron', { schedule: '@every 1s' })], appPort: app.port });
    await eventually(() => app!.received('POST', '/tick').length >= 2, 20_000, 'two cron events');
    expect(app.received('OPTIONS', '/tick').length).toBe(1);
    const [event] = app.received('POST', '/tick');
    expect(event?.headers['content-type']).toBe('application/json');
    expect(event?.headers['timezone']).toBeTruthy();
    expect(Number.isNaN(Date.parse(String(event?.headers['readtimeutc'])))).toBe(false);
  });

  it('does not deliver to an app that answers 404 to the OPTIONS probe', async () => {
    app = await startRecordingApp({});
    sidecar = await startTestSidecar({
      resources: [componentYaml('tick', 'bindings.cron', { schedule: '@every 1s' }), componentYaml('tock', 'bindings.cron', { schedule: '@every 1s', route: '/tock' })],
      appPort: app.port,
    });
    await eventually(() => app!.received('OPTIONS', '/tock').length === 1 && app!.received('OPTIONS', '/tick').length === 1, 10_000, 'both probes');
    // The probe outcome is final: with no subscriber the runner starts nothing.
    await eventually(() => sidecar!.sidecar.inputBindings !== undefined, 5000);
    expect(sidecar.sidecar.inputBindings?.active).toEqual([]);
    expect(app.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('saves the state and calls the output bindings named in the app reply', async () => {
    const sink = await startRecordingApp({ '/sink': { status: 200 } });
    try {
      const reply = JSON.stringify({ storeName: 'kv', state: [{ key: 'last', value: { n: 1 } }], to: ['out'], data: { forwarded: true } });
      app = await startRecordingApp({ '/tick': { status: 200, body: reply } });
      sidecar = await startTestSidecar({
        resources: [
          STATE,
          componentYaml('tick', 'bindings.cron', { schedule: '@every 1s' }),
          componentYaml('out', 'bindings.http', { url: `http://127.0.0.1:${sink.port}/sink` }),
        ],
        appPort: app.port,
      });
      await eventually(() => sink.received('POST', '/sink').length >= 1, 20_000, 'forwarded reply');
      expect(JSON.parse(sink.received('POST', '/sink')[0]?.body ?? '')).toEqual({ forwarded: true });
      const saved = await fetch(`${sidecar.baseUrl}/v1.0/state/kv/last`);
      expect(await saved.json()).toEqual({ n: 1 });
    } finally {
      await sink.close();
    }
  });
});
