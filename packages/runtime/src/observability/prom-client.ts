/**
 * prom-client's metric classes, required from their own files rather than from the package's index.
 * The index also loads the push-gateway client, the cluster aggregator and the default (process)
 * metrics, whose CPU counter pulls in `@opentelemetry/api`: about 75 modules and ~40 ms of CPU at
 * start-up (issue 15), where these four classes cost 8 modules and ~3 ms. The default metrics load
 * when {@link collectDefaultMetrics} is first called, after readiness (`observability/metrics.ts`).
 *
 * The file layout is prom-client's, not its API: the version is pinned exactly in package.json, and
 * these requires fail at start-up (every test) if an upgrade moves the files. Only the observability
 * files and the actor metrics touch prom-client, all through here.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import { lazyModule } from '../util/lazy-module.js';

const require = createRequire(import.meta.url);

/** prom-client's `Registry`. */
export const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
/** prom-client's `Counter`. */
export const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;
/** prom-client's `Gauge`. */
export const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
/** prom-client's `Histogram`. */
export const Histogram = require('prom-client/lib/histogram') as typeof PromClient.Histogram;

/** A registry of metrics. */
export type Registry = PromClient.Registry;
/** A counter metric. */
export type Counter<T extends string = string> = PromClient.Counter<T>;
/** A gauge metric. */
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
/** A histogram metric. */
export type Histogram<T extends string = string> = PromClient.Histogram<T>;

const defaultMetrics = lazyModule<typeof PromClient.collectDefaultMetrics>('prom-client/lib/defaultMetrics');

/** prom-client's `collectDefaultMetrics`, loaded at its first call. */
export function collectDefaultMetrics(config?: PromClient.DefaultMetricsCollectorConfiguration<PromClient.RegistryContentType>): void {
  defaultMetrics()(config);
}
