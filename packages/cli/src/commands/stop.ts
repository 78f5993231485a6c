/**
 * `weft stop --app-id X` stops the `weft run`/`weft sidecar` process serving that app (which stops
 * its app); `weft stop -f <run file|dir>` stops the `weft run -f` supervisor of that file, which stops
 * every app it started. Both wait until the processes are gone.
 */
import { Command } from 'commander';
import { listRegistry, pidAlive, registryDir } from '@weft/runtime';
import type { RegistryEntry } from '@weft/runtime';
import { resolveRunFilePath } from '../runfile/run-file.js';

/** The pids to signal for a selection, and the sidecar pids that must disappear. */
export function stopTargets(entries: readonly RegistryEntry[], select: { appId?: string; runFile?: string }): { signal: number[]; wait: number[] } {
  const chosen = entries.filter((e) =>
    select.appId !== undefined ? e.appId === select.appId : e.extra?.['runTemplatePath'] === select.runFile,
  );
  const signal = new Set<number>();
  for (const e of chosen) {
    const runner = Number(e.extra?.['runnerPid']);
    signal.add(select.runFile !== undefined && runner ? runner : e.pid);
  }
  return { signal: [...signal], wait: chosen.map((e) => e.pid) };
}

async function waitGone(pids: readonly number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(pidAlive)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** The `stop` command. */
export function stopCommand(): Command {
  return new Command('stop')
    .description('stop a running app (--app-id) or every app of a run file (-f)')
    .option('-a, --app-id <id>', 'the app id to stop')
    .option('-f, --run-file <path>', 'the run file (or its directory) given to weft run -f')
    .action(async (values: { appId?: string; runFile?: string }) => {
      if (!values.appId && !values.runFile) throw new Error('give --app-id or -f <run file>');
      const select = values.runFile ? { runFile: resolveRunFilePath(values.runFile) } : { appId: values.appId as string };
      const { signal, wait } = stopTargets(await listRegistry(registryDir(process.env)), select);
      if (signal.length === 0) throw new Error(values.appId ? `no running app with id "${values.appId}"` : `no running apps from ${select.runFile ?? ''}`);
      for (const pid of signal) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // Exited in the meantime.
        }
      }
      if (!(await waitGone(wait, 20_000))) throw new Error(`processes ${wait.filter(pidAlive).join(', ')} did not stop within 20 s`);
      process.stdout.write(`stopped ${values.appId ? `app ${values.appId}` : `apps of ${select.runFile ?? ''}`}\n`);
    });
}
