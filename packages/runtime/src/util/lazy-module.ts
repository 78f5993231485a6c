/**
 * Dependencies loaded on first use, synchronously. A library that only some components or settings
 * need (cron schedules, CEL expressions) is loaded when one of them asks for it, so start-up time and
 * memory depend on what a sidecar uses. Synchronous because the callers (schedule and expression
 * parsers) are synchronous; `require` of an ES module needs Node ≥ 20.19, which `engines` demands.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A getter that loads `specifier` the first time it is called and returns the cached module after. */
export function lazyModule<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(specifier) as T);
}
