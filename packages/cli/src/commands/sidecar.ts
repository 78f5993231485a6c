/**
 * `weft sidecar`: a drop-in for `daprd`. Same flags, same APIs; runs until SIGINT/SIGTERM or
 * `POST /v1.0/shutdown`.
 */
import { Command } from 'commander';
import { RecentLogs, Sidecar, createLogger } from '@weft/runtime';
import { startFailure } from '../start-failure.js';
import { releaseYoungGeneration } from '../startup-heap.js';
import { addSidecarFlags, ignoredFlagWarnings, sidecarOptionsFromFlags } from '../sidecar-flags.js';
import type { SidecarFlagValues } from '../sidecar-flags.js';

/** Starts a sidecar and wires signals; resolves when it has stopped. */
export async function runSidecar(values: SidecarFlagValues): Promise<number> {
  const options = sidecarOptionsFromFlags(values, process.env, values.appId ?? 'weft-app');
  const recentLogs = new RecentLogs();
  const logger = createLogger({ onLine: (line) => recentLogs.addLine(line), level: options.logLevel, json: options.logAsJson, appId: options.appId });
  for (const warning of ignoredFlagWarnings(values)) logger.warn(warning);
  let stopRequested: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stopRequested = resolve));
  let sidecar: Sidecar;
  try {
    sidecar = await Sidecar.start(options, { logger, recentLogs, fresh: values.fresh, onShutdownRequested: () => stopRequested() });
  } catch (err) {
    logger.error(startFailure(err, options));
    return 1;
  } finally {
    releaseYoungGeneration();
  }
  for (const line of sidecar.banner()) logger.info(line);
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info(`received ${signal}, shutting down`);
    stopRequested();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await stopped;
  await sidecar.stop();
  logger.info('sidecar stopped');
  return 0;
}

/** The `sidecar` command. */
export function sidecarCommand(): Command {
  const command = new Command('sidecar').description('run the Weft sidecar alone, with daprd-compatible flags').allowExcessArguments(false);
  addSidecarFlags(command, { httpPort: 3500, grpcPort: 50001, metricsPort: 9090 });
  command.action(async (values: SidecarFlagValues) => {
    process.exitCode = await runSidecar(values);
  });
  return command;
}
