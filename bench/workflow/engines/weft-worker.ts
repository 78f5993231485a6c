/**
 * A second Weft worker process for the two-worker variant: the same workflows and activities as the
 * bench app, registered with `@dapr/dapr`'s `WorkflowRuntime` against the sidecar's gRPC port (argv[2]).
 */
import { WorkflowRuntime } from '@dapr/dapr';
import { fan10, inc, part, quietDaprLogs, seq3 } from './weft.js';

async function main(): Promise<void> {
  quietDaprLogs();
  const runtime = new WorkflowRuntime({ daprHost: '127.0.0.1', daprPort: process.argv[2] ?? '50001' })
    .registerWorkflowWithName('seq3', seq3)
    .registerWorkflowWithName('fan10', fan10)
    .registerActivityWithName('inc', inc)
    .registerActivityWithName('part', part);
  await runtime.start();
  process.once('SIGTERM', () => {
    void runtime.stop().finally(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
