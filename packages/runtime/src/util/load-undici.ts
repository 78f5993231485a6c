/**
 * undici, the HTTP client of service invocation, actor calls between sidecars and the app channel,
 * loaded on first use. A sidecar that is never asked to call anything over HTTP needs none of it:
 * the forwarder, the actor peer and the app channel build their pools at their first call, and the
 * invocation warm-up runs after readiness (`invoke/warm-up.ts`).
 *
 * Only the client core is loaded — the dispatchers, the request API, the connector and the errors —
 * from undici's own files, as its index does: the index also loads fetch, WebSocket, EventSource, the
 * cache stores, the mock agents and the interceptors, 110 modules and ~85 ms of CPU against 31 and
 * ~30 ms (issue 15; that load delays whatever request comes first after readiness). The file layout
 * is undici's, not its API: the version is pinned exactly in package.json, and a layout change fails
 * every invocation test at the first call.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

/** The parts of undici Weft uses. */
export type UndiciCore = Pick<typeof Undici, 'Agent' | 'Pool' | 'buildConnector' | 'errors'>;

let core: UndiciCore | undefined;

function load(): UndiciCore {
  const require = createRequire(import.meta.url);
  // What undici's index does to give every dispatcher `request()`, `stream()`, `pipeline()` …
  const dispatcher = require('undici/lib/dispatcher/dispatcher.js') as typeof Undici.Dispatcher;
  Object.assign(dispatcher.prototype, require('undici/lib/api/index.js') as object);
  return {
    Agent: require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent,
    Pool: require('undici/lib/dispatcher/pool.js') as typeof Undici.Pool,
    buildConnector: require('undici/lib/core/connect.js') as typeof Undici.buildConnector,
    errors: require('undici/lib/core/errors.js') as typeof Undici.errors,
  };
}

/** Loads (once) and returns undici's client core. */
export function undici(): UndiciCore {
  core ??= load();
  return core;
}
