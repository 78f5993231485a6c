/**
 * Dependencies loaded on first use, synchronously. A library that only some components or settings
 * need (cron schedules, CEL expressions) is loaded when one of them asks for it, so start-up time and
 * memory depend on what a sidecar uses. Synchronous because the callers (schedule and expression
 * parsers) are synchronous; `require` of an ES module needs Node ≥ 20.19, which `engines` demands.
 */
import { createRequire } from 'node:module';

/**
 * A getter that loads `specifier` the first time it is called and returns the cached module after.
 * `from` is the importing module's `import.meta.url` when `specifier` is relative.
 */
export function lazyModule<T>(specifier: string, from: string = import.meta.url): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= createRequire(from)(specifier) as T);
}
