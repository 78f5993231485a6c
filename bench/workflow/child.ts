/**
 * Measures one engine (argv[2]), or an engine and its `-100k` twin, on both workloads and prints one
 * JSON line per engine. Each engine runs in its
 * own process so that one engine's leftovers (connections, timers, JIT state) never touch another.
 */
import type { BenchEngine, MeasureOptions, WorkloadResult } from './measure.js';
import { ENGINES, measure } from './measure.js';
import type { EngineName, Workload } from './measure.js';


async function open(name: EngineName, postgresUrl: string): Promise<BenchEngine> {
  switch (name) {
    case 'weft-sqlite':
      return (await import('./engines/weft.js')).openWeft();
    case 'weft-postgres':
      return (await import('./engines/weft.js')).openWeft({ postgresUrl });
    case 'weft-sqlite-100k':
      return (await import('./engines/weft.js')).openWeft({ seedFinished: 100_000 });
    case 'weft-postgres-100k':
      return (await import('./engines/weft.js')).openWeft({ postgresUrl, seedFinished: 100_000 });
    case 'weft-sqlite-2w':
      return (await import('./engines/weft.js')).openWeft({ workers: 2 });
    case 'weft-postgres-2w':
      return (await import('./engines/weft.js')).openWeft({ postgresUrl, workers: 2 });
    case 'dbos':
      return (await import('./engines/dbos.js')).openDbos(postgresUrl);
    case 'restate':
      return (await import('./engines/restate.js')).openRestate();
  }
}

async function main(): Promise<void> {
  // One engine, or an engine and its `-100k` twin (`weft-sqlite,weft-sqlite-100k`): a pair is measured
  // back to back, workload by workload (empty, full; then full, empty), both sidecars up throughout, so
  // that load drift on a shared machine does not make their ratio.
  const names = (process.argv[2] ?? '').split(',') as EngineName[];
  for (const name of names) if (!(ENGINES as readonly string[]).includes(name)) throw new Error(`unknown engine "${name}"; known: ${ENGINES.join(', ')}`);
  const options = JSON.parse(process.argv[3] ?? '{}') as MeasureOptions & { postgresUrl: string; workloads?: Workload[] };
  const engines: BenchEngine[] = [];
  const results = new Map<EngineName, WorkloadResult[]>(names.map((n) => [n, []]));
  try {
    for (const name of names) engines.push(await open(name, options.postgresUrl));
    const stamp = Date.now().toString(36);
    for (const [w, workload] of (options.workloads ?? (['seq3', 'fan10'] as const)).entries()) {
      const order = w % 2 === 0 ? names.map((_, i) => i) : names.map((_, i) => names.length - 1 - i);
      for (const i of order) {
        const name = names[i]!;
        const r = await measure(engines[i]!, workload, `${name}-${stamp}`, options);
        results.get(name)!.push(r);
        process.stderr.write(`${name} ${workload}: ${JSON.stringify(r)}\n`);
      }
    }
  } finally {
    for (const engine of engines) await engine.close();
  }
  for (const name of names) process.stdout.write(`RESULT ${JSON.stringify({ engine: name, results: results.get(name) })}\n`);
  // SDK clients keep sockets and timers alive after close; the parent only needs the lines above.
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
