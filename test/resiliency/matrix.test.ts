/**
 * Which test shows each resiliency policy kind acting on each target kind against a real fault.
 * The test below keeps this table honest: every cell must name a test that exists.
 *
 * | target                                   | timeout | retry | circuit breaker |
 * |------------------------------------------|---------|-------|-----------------|
 * | app, HTTP invoke                         | A1      | A2    | A3              |
 * | app, gRPC `InvokeService`                | B1      | B2    | B3              |
 * | app, gRPC proxy by `dapr-app-id`         | C1      | C2    | C3              |
 * | component out: state                     | D1      | D2    | D3              |
 * | component out: secrets (injected faults) | E1      | E2    | E3              |
 * | component out: pub/sub publish           | F1      | F2    | F3              |
 * | component out: output bindings           | G1      | G2    | G3              |
 * | component in: pub/sub delivery           | H1      | H2    | H3              |
 * | component in: input bindings             | I1      | I2    | I3              |
 *
 * Faults: apps that fail N times or never answer, an app or backend stopped and started again, and
 * TCP fault proxies that delay or drop connections to the real Redis or to a gRPC app. Weft's secret
 * stores read files or the environment at start-up, so row E uses the fault-injecting
 * `secretstores.flaky` driver. More cells are covered than listed (exhausted retries, `matching`,
 * `Default…Policy` names, recovery after a breaker's timeout); the legend names one test per cell.
 *
 * A1 invoke/invoke-resiliency.test.ts › answers 500 ERR_DIRECT_INVOKE when every attempt times out
 * A2 invoke/invoke-resiliency.test.ts › retries an app that fails twice with 503 and returns its eventual 200 with the body resent
 * A3 invoke/invoke-resiliency.test.ts › opens the circuit breaker after the trip expression and short-circuits further calls
 * B1 invoke/invoke-resiliency.test.ts › answers gRPC InvokeService with DEADLINE_EXCEEDED "context deadline exceeded" when every attempt times out
 * B2 invoke/invoke-resiliency.test.ts › retries gRPC InvokeService calls under the same app policy
 * B3 invoke/invoke-resiliency.test.ts › answers gRPC InvokeService with UNKNOWN "circuit breaker is open" without reaching the app once the breaker opened
 * C1 resiliency/grpc-proxy-resiliency.test.ts › times out attempts through a slow network and completes once it is fast again
 * C2 resiliency/grpc-proxy-resiliency.test.ts › rides out the connection to the app being dropped, and the call reaches the app once it heals
 * C3 resiliency/grpc-proxy-resiliency.test.ts › opens per method after two failures, refuses with UNKNOWN without reaching the app, and closes after a successful probe
 * D1 observe/resiliency-faults.test.ts › times out reads through a slow network and recovers when it heals
 * D2 observe/resiliency-faults.test.ts › rides out a Redis killed and restarted mid-request
 * D3 resiliency/component-faults.test.ts › opens the state store circuit breaker while Redis is unreachable and recovers after it heals
 * E1 resiliency/component-faults.test.ts › answers 500 ERR_SECRET_GET "context deadline exceeded" for a stalled secret store
 * E2 observe/resiliency-faults.test.ts › applies DefaultSecretstoreComponentOutboundRetryPolicy to a secret store without a named target
 * E3 resiliency/component-faults.test.ts › opens the circuit breaker after two failed reads, refuses without calling the store, and recovers after its timeout
 * F1 resiliency/component-faults.test.ts › answers 500 ERR_PUBSUB_PUBLISH_MESSAGE "context deadline exceeded" when every publish attempt times out
 * F2 resiliency/component-faults.test.ts › retries publishes that time out on a slow network and succeeds once it is fast again
 * F3 resiliency/component-faults.test.ts › opens the publish circuit breaker while the broker connection is dropped, refuses at once, and recovers after it heals
 * G1 resiliency/bindings-resiliency.test.ts › times out bindings.redis calls through a slow network and completes once it is fast again
 * G2 resiliency/bindings-resiliency.test.ts › rides out the server being stopped and started again mid-request
 * G3 resiliency/bindings-resiliency.test.ts › opens the circuit breaker after two failures, refuses without reaching the server, and closes after a successful probe
 * H1 pubsub/delivery-resiliency.test.ts › times out a hanging delivery per the policy, retries it maxRetries times, then dead-letters it
 * H2 pubsub/delivery-resiliency.test.ts › retries a RETRY answer under the policy until SUCCESS
 * H3 resiliency/component-faults.test.ts › stops delivering to an app that keeps failing once the breaker opens, and delivers after the app recovers
 * I1 resiliency/bindings-resiliency.test.ts › times out deliveries to a stalled app and retries until it answers
 * I2 resiliency/bindings-resiliency.test.ts › retries delivering an event the app refused twice, so the app takes it on the third attempt
 * I3 resiliency/bindings-resiliency.test.ts › opens the circuit breaker on a failing app so deliveries stop reaching it, and delivers after the app recovers
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const here = fileURLToPath(import.meta.url);
const testRoot = path.resolve(path.dirname(here), '..');

/** The table's cells and the legend, read from this file's header. */
async function readMatrix(): Promise<{ cells: string[]; legend: Map<string, { file: string; title: string }> }> {
  const header = (await fs.readFile(here, 'utf8')).split('*/')[0] ?? '';
  const lines = header.split('\n').map((l) => l.replace(/^\s*\*\s?/, ''));
  const cells = lines
    .filter((l) => l.startsWith('|') && !l.startsWith('|--') && !l.startsWith('| target'))
    .flatMap((l) => l.split('|').slice(2, -1).map((c) => c.trim()));
  const legend = new Map<string, { file: string; title: string }>();
  for (const line of lines) {
    const m = /^([A-Z]\d) (\S+\.test\.ts) › (.+)$/.exec(line);
    if (m) legend.set(m[1] as string, { file: m[2] as string, title: m[3] as string });
  }
  return { cells, legend };
}

it('names an existing test for every policy kind on every target kind', async () => {
  const { cells, legend } = await readMatrix();
  expect(cells).toHaveLength(27);
  const missing: string[] = [];
  for (const cell of cells) {
    const entry = legend.get(cell);
    if (!entry) {
      missing.push(`${cell}: no legend entry`);
      continue;
    }
    const source = await fs.readFile(path.join(testRoot, entry.file), 'utf8').catch(() => '');
    const quoted = [`'${entry.title.replace(/'/g, "\\'")}'`, `"${entry.title}"`, `\`${entry.title}\``];
    if (!quoted.some((q) => source.includes(q))) missing.push(`${cell}: ${entry.file} has no test "${entry.title}"`);
  }
  expect(missing).toEqual([]);
});
