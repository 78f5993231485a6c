/** HTTP route of the output bindings API: `POST|PUT /v1.0/bindings/{name}` with `{data, metadata, operation}`. */
import type { OutputBindings } from './output.js';
import { bindingErrors } from '../../errors/index.js';
import { isObject } from '../../api/http/decode.js';
import type { HttpReply, HttpRequestContext, HttpRoute } from '../../api/http/types.js';
import { noContent } from '../../api/http/types.js';

/** The decoded request body, as Dapr's `OutputBindingRequest`. */
interface OutputBindingBody {
  data: Buffer;
  metadata: Record<string, string>;
  operation: string;
}

/** Decodes the body; metadata values must be strings, as Go's `map[string]string` demands. */
export function decodeOutputBindingBody(body: Buffer): OutputBindingBody {
  let parsed: unknown;
  try {
    parsed = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw bindingErrors.malformedRequest((err as Error).message);
  }
  if (!isObject(parsed)) throw bindingErrors.malformedRequest('the body must be a JSON object');
  const metadata: Record<string, string> = {};
  const rawMetadata = parsed['metadata'];
  if (rawMetadata !== undefined && rawMetadata !== null) {
    if (!isObject(rawMetadata)) throw bindingErrors.malformedRequest('metadata must be an object of strings');
    for (const [k, v] of Object.entries(rawMetadata)) {
      if (typeof v !== 'string') throw bindingErrors.malformedRequest(`metadata.${k} must be a string`);
      metadata[k] = v;
    }
  }
  const operation = parsed['operation'] ?? '';
  if (typeof operation !== 'string') throw bindingErrors.malformedRequest('operation must be a string');
  // Dapr re-serialises `data` as JSON: a string arrives at the component with its quotes, absent data as null.
  return { data: Buffer.from(JSON.stringify(parsed['data'] ?? null)), metadata, operation };
}

function header(req: HttpRequestContext, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The bindings routes over the {@link OutputBindings} block. */
export function bindingsRoutes(output: OutputBindings): HttpRoute[] {
  const invoke = async (req: HttpRequestContext): Promise<HttpReply> => {
    const name = req.params['name'] ?? '';
    const { data, metadata, operation } = decodeOutputBindingBody(req.body);
    // Trace context travels to the component in metadata, as in Dapr.
    for (const h of ['traceparent', 'tracestate', 'baggage']) {
      const value = header(req, h);
      if (value !== undefined && metadata[h] === undefined) metadata[h] = value;
    }
    const response = await output.invoke(name, { data, metadata, operation });
    if (!response) return noContent();
    const headers: Record<string, string> = { 'content-type': response.contentType ?? 'application/json' };
    for (const [k, v] of Object.entries(response.metadata ?? {})) headers[`metadata.${k}`] = v;
    return { status: 200, headers, body: response.data };
  };
  return [{ methods: ['POST', 'PUT'], path: '/v1.0/bindings/:name', group: 'bindings', name: 'InvokeBinding', handler: invoke }];
}
