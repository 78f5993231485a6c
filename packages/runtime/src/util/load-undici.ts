/**
 * undici, the HTTP client of service invocation, actor calls between sidecars and the app channel,
 * loaded on first use. Loading it costs more CPU than any other library a sidecar needs (over 100
 * modules, ~85 ms on the benchmark machine, issue 15), and a sidecar that is never asked to call
 * anything over HTTP needs none of it: the forwarder and the actor peer build their pools at their
 * first call, and the invocation warm-up runs after readiness (`invoke/warm-up.ts`).
 */
import type * as Undici from 'undici';
import { lazyModule } from './lazy-module.js';

/** Loads (once) and returns the `undici` module. */
export const undici: () => typeof Undici = lazyModule<typeof Undici>('undici');
