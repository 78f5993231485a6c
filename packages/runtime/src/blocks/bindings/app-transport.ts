/**
 * How input-binding events reach the app, per app protocol. HTTP apps are probed with
 * `OPTIONS /{route}` and get `POST /{route}`; gRPC apps list their bindings with
 * `ListInputBindings` and get `OnBindingEvent` (see `appchannel/grpc-callbacks.ts`). Both answers
 * become a {@link BindingReply}, so the block applies replies the same way for either.
 */
import type { AppChannel } from '../../appchannel/app-channel.js';
import type { BindingEvent } from '../../components/bindings/binding.js';

/** The app's optional instructions after an event: save state, send data to output bindings. */
export interface BindingReply {
  storeName?: string;
  state: { key: string; value: Buffer }[];
  to: string[];
  concurrency: 'parallel' | 'sequential';
  /** Sent to each binding in `to`. */
  data: Buffer;
}

/** Delivers input-binding events to the app. */
export interface BindingAppTransport {
  /** Whether the app handles the binding (`route` for HTTP apps, `binding` for gRPC apps). */
  handles(binding: string, route: string): Promise<boolean>;
  /** Delivers one event; rejects when the app did not take it. `signal` aborts it (an inbound policy's timeout). */
  deliver(binding: string, route: string, event: BindingEvent, signal?: AbortSignal): Promise<BindingReply | undefined>;
  close?(): Promise<void>;
}

/** Thrown when the app does not take an event (non-200). */
export class AppRejectedEventError extends Error {
  constructor(binding: string, status: number) {
    super(`app returned status ${status} for binding ${binding}`);
    this.name = 'AppRejectedEventError';
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads an HTTP app's JSON reply (`{storeName, state, to, concurrency, data}`); anything else is no reply. */
export function parseHttpReply(body: Buffer): BindingReply | undefined {
  if (body.length === 0) return undefined;
  let reply: unknown;
  try {
    reply = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined; // A non-JSON answer is just the app's acknowledgement.
  }
  if (!isRecord(reply)) return undefined;
  const storeName = typeof reply['storeName'] === 'string' && reply['storeName'] !== '' ? reply['storeName'] : undefined;
  const state = Array.isArray(reply['state'])
    ? reply['state'].filter(isRecord).flatMap((s) => (typeof s['key'] === 'string' ? [{ key: s['key'], value: Buffer.from(JSON.stringify(s['value'] ?? null)) }] : []))
    : [];
  const to = Array.isArray(reply['to']) ? reply['to'].filter((t): t is string => typeof t === 'string') : [];
  return {
    ...(storeName ? { storeName } : {}),
    state,
    to,
    concurrency: reply['concurrency'] === 'sequential' ? 'sequential' : 'parallel',
    data: Buffer.from(JSON.stringify(reply['data'] ?? null)),
  };
}

/** Delivery to an HTTP app over its channel. */
export function httpBindingTransport(channel: AppChannel): BindingAppTransport {
  return {
    async handles(_binding, route) {
      try {
        const res = await channel.call({ method: 'OPTIONS', path: route, signal: AbortSignal.timeout(5000) });
        return (res.status >= 200 && res.status < 300) || res.status === 405;
      } catch {
        return false;
      }
    },
    async deliver(binding, route, event, signal) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      for (const [k, v] of Object.entries(event.metadata)) headers[k] = v;
      const res = await channel.call({ method: 'POST', path: route, headers, body: event.data, ...(signal ? { signal } : {}) });
      if (res.status !== 200) throw new AppRejectedEventError(binding, res.status);
      return parseHttpReply(res.body);
    },
  };
}
