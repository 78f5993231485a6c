/**
 * `bindings.http`: an output binding that sends HTTP requests to `url` (+ request metadata `path`).
 * Operations are the HTTP verbs (`create` is POST). Request metadata other than `path` is sent as
 * headers; the response body is the binding's data and `statusCode`, `status` and the response
 * headers are its metadata. A non-2xx answer is an error unless `errorIfNot2XX` is false.
 */
import { request as undiciRequest } from 'undici';
import type { Component, ComponentContext } from '../../component.js';
import { MetadataError, readBool, readDurationMs, requireString } from '../../metadata.js';
import type { MetadataProperties } from '../../metadata.js';
import type { InvokeRequest, InvokeResponse, OutputBinding } from '../binding.js';

const METHODS: Record<string, string> = {
  create: 'POST',
  get: 'GET',
  head: 'HEAD',
  post: 'POST',
  put: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  options: 'OPTIONS',
  trace: 'TRACE',
};

/** Metadata keys that steer the binding rather than become headers. */
const NOT_HEADERS = new Set(['path', 'traceparent', 'tracestate', 'baggage']);

/** The HTTP output binding. */
export class HttpBinding implements OutputBinding, Component {
  private url = '';
  private errorIfNot2XX = true;
  private timeoutMs = 0;

  async init(props: MetadataProperties, _context: ComponentContext): Promise<void> {
    const url = requireString(props, 'url');
    try {
      new URL(url);
    } catch {
      throw new MetadataError('url', `"${url}" is not an absolute URL`);
    }
    this.url = url.replace(/\/+$/, '');
    this.errorIfNot2XX = readBool(props, 'errorIfNot2XX', true);
    this.timeoutMs = readDurationMs(props, 'responseTimeout', 0);
    await Promise.resolve();
  }

  operations(): readonly string[] {
    return Object.keys(METHODS);
  }

  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    const method = METHODS[request.operation] ?? 'POST';
    const path = request.metadata['path'] ?? '';
    const url = path === '' ? this.url : `${this.url}/${path.replace(/^\/+/, '')}`;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(request.metadata)) if (!NOT_HEADERS.has(k)) headers[k] = v;
    const sendsBody = method !== 'GET' && method !== 'HEAD' && request.data.length > 0;
    const signals = [...(request.signal ? [request.signal] : []), ...(this.timeoutMs > 0 ? [AbortSignal.timeout(this.timeoutMs)] : [])];
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const res = await undiciRequest(url, {
      method: method as 'GET',
      headers,
      ...(sendsBody ? { body: request.data } : {}),
      ...(signal ? { signal } : {}),
    });
    const data = Buffer.from(await res.body.arrayBuffer());
    if (this.errorIfNot2XX && (res.statusCode < 200 || res.statusCode >= 300)) {
      throw new Error(`received status code ${res.statusCode}`);
    }
    const metadata: Record<string, string> = { statusCode: String(res.statusCode), status: String(res.statusCode) };
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) metadata[k] = Array.isArray(v) ? v.join(', ') : v;
    const contentType = res.headers['content-type'];
    return { data, metadata, ...(typeof contentType === 'string' ? { contentType } : {}) };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
