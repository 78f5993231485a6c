/**
 * State conformance: ONE suite run against every state driver Weft ships (STYLE.md #4, #5), through
 * the HTTP API of an in-process sidecar (real routes, block and driver) and at the store level.
 * Capabilities come from `state-drivers.ts`; a case a driver cannot run is registered as skipped with
 * the driver's stated reason. Drivers on Redis or PostgreSQL need those services: without them the
 * suite is skipped loudly, or fails under CI=true.
 */
import { describe } from 'vitest';
import { requireService } from '../../../../test/support/services.js';
import { STATE_DRIVERS } from './state-drivers.js';
import { concurrencyCases } from './state-cases-concurrency.js';
import { crudCases } from './state-cases-crud.js';
import { isolationCases } from './state-cases-isolation.js';
import { queryCases } from './state-cases-query.js';
import { storeCases } from './state-cases-store.js';
import { ttlCases } from './state-cases-ttl.js';
import { setupDriverRun } from './state-harness.js';

const available = new Map<string, boolean>();
for (const driver of STATE_DRIVERS) {
  available.set(driver.label, driver.service ? await requireService(driver.service, `state conformance: ${driver.label}`) : true);
}

// Drivers run side by side (each has its own backend); the cases of one driver run in order, except
// the TTL cases, which only wait and use keys of their own.
for (const driver of STATE_DRIVERS) {
  // `skip: false` would be inherited by every case and override the `it.skip` of capability gaps.
  const options = available.get(driver.label) ? { concurrent: true } : { concurrent: true, skip: true };
  describe(`state conformance: ${driver.label}`, options, () => {
    const run = setupDriverRun(driver);
    describe.sequential('reads and writes', () => crudCases(run));
    describe.sequential('concurrency and transactions', () => concurrencyCases(run));
    describe.concurrent('TTL', () => ttlCases(run));
    describe.sequential('key prefixes', () => isolationCases(run));
    describe.sequential('query API', () => queryCases(run));
    describe.sequential('store level', () => storeCases(run));
  });
}
