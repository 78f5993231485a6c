/**
 * The `weft` command line: `sidecar` (a daprd drop-in) and `run` (an app beside a sidecar).
 */
import { Command } from 'commander';
import { RUNTIME_VERSION } from '@weft/runtime';
import { invokeCommand } from './commands/invoke.js';
import { listCommand } from './commands/list.js';
import { runCommand } from './commands/run.js';
import { stopCommand } from './commands/stop.js';
import { sidecarCommand } from './commands/sidecar.js';
import { workflowCommand } from './commands/workflow.js';
import { publishCommand } from './commands/publish.js';
import { dashboardCommand } from './commands/dashboard.js';
import { normalizeGoFlags } from './sidecar-flags.js';
import { releaseYoungGeneration } from './startup-heap.js';

/** Builds the program (exported for tests). */
export function program(): Command {
  return new Command('weft')
    .description('Weft: a distributed application runtime that speaks the Dapr API')
    .version(RUNTIME_VERSION)
    .addCommand(runCommand())
    .addCommand(sidecarCommand())
    .addCommand(workflowCommand())
    .addCommand(listCommand())
    .addCommand(stopCommand())
    .addCommand(invokeCommand())
    .addCommand(publishCommand())
    .addCommand(dashboardCommand())
    .showHelpAfterError();
}

/** Runs the CLI with `argv` as Node gives it. */
export async function main(argv: readonly string[]): Promise<void> {
  const args = argv.slice(2);
  const normalized = args[0] === 'sidecar' ? ['sidecar', ...normalizeGoFlags(args.slice(1))] : args;
  // Only the commands that start a sidecar keep the young generation small until it is ready.
  if (args[0] !== 'sidecar' && args[0] !== 'run') releaseYoungGeneration();
  try {
    await program().parseAsync(normalized, { from: 'user' });
  } catch (err) {
    console.error(`weft: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
