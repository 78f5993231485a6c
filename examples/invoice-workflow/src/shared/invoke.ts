/**
 * Service invocation through the local sidecar (`/v1.0/invoke/{appId}/method/{method}`): the only way
 * the workflow app reaches the services, so Weft (or Dapr) resolves, traces and secures every call.
 * Answers are validated against the callee's contract.
 */
import type { z } from 'zod';

/**
 * A call the callee refused (4xx): retrying the same request cannot help. Workflow activities let it
 * through unchanged so that the workflow's retry policy gives up at once; its class name travels in
 * the failure details.
 */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}

/** A call that failed for a reason that may pass (callee down, 5xx, timeout). */
export class TransientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientError';
  }
}

/** Options of {@link invokeService}. */
export interface InvokeOptions {
  daprHttpPort: number;
  /** Abort the call after this long. @default 120000 */
  timeoutMs?: number;
}

/** POSTs `body` as JSON to `method` of `appId` and returns the validated answer. */
export async function invokeService<T>(appId: string, method: string, body: unknown, schema: z.ZodType<T>, options: InvokeOptions): Promise<T> {
  const url = `http://127.0.0.1:${options.daprHttpPort}/v1.0/invoke/${appId}/method/${method}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
    });
  } catch (err) {
    throw new TransientError(`${appId}/${method}: the sidecar did not answer (${(err as Error).message})`);
  }
  const text = await res.text();
  if (!res.ok) {
    // The callee's `{ error }`, or the sidecar's `{ errorCode, message }` when the callee is unreachable.
    let detail = text;
    try {
      const parsed = JSON.parse(text) as { error?: string; message?: string; errorCode?: string };
      detail = parsed.error ?? (parsed.errorCode ? `${parsed.errorCode}: ${parsed.message ?? ''}` : text);
    } catch {
      // not JSON: keep the raw text
    }
    const message = `${appId}/${method} answered ${res.status}: ${detail}`;
    // 4xx from the callee is final; the sidecar's own failures (ERR_DIRECT_INVOKE, 5xx) may pass.
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentError(message);
    throw new TransientError(message);
  }
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new PermanentError(`${appId}/${method} answered with an unexpected body: ${parsed.error.message}`);
  return parsed.data;
}
