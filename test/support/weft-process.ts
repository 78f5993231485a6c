/**
 * Starts the real, built `weft` binary as a child process (the black-box tier) and waits until its
 * HTTP API answers. Requires `npm run build` first, which `npm test` does.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the `weft` entry point. */
export const WEFT_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../packages/cli/bin/weft.js');

/**
 * Ports handed out by {@link freePort} in this process; never handed out twice, because a port that
 * was free when asked for may not be bound yet by the process it was meant for.
 */
const handedOut = new Set<number>();

/**
 * Where {@link freePort} looks: below Linux's ephemeral range (32768–60999), because the kernel gives
 * ports from that range to every outgoing connection, so a port picked there can be taken by some
 * client's connect() between the moment it was found free and the moment a child process binds it.
 * Each test process starts at its own offset so that parallel test files rarely probe the same ports.
 */
const PORT_RANGE = { low: 20_000, high: 32_000 } as const;
let nextCandidate = PORT_RANGE.low + ((process.pid * 7919) % (PORT_RANGE.high - PORT_RANGE.low));

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free TCP port on 127.0.0.1, outside the ephemeral range and not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < PORT_RANGE.high - PORT_RANGE.low; tries++) {
    const port = nextCandidate;
    nextCandidate = nextCandidate + 1 >= PORT_RANGE.high ? PORT_RANGE.low : nextCandidate + 1;
    if (handedOut.has(port)) continue;
    if (await canBind(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port between ${PORT_RANGE.low} and ${PORT_RANGE.high}`);
}

/** A running `weft sidecar` process. */
export interface WeftProcess {
  child: ChildProcess;
  httpPort: number;
  grpcPort: number;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM, then wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `weft sidecar` with the given extra flags on free ports and waits for `healthz/outbound`. */
export async function startWeftSidecar(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<WeftProcess> {
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      // Node flags for the sidecar only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it in a
      // benchmark (NODE_OPTIONS refuses --cpu-prof, and would reach every process).
      ...(process.env['WEFT_SIDECAR_NODE_ARGS']?.split(' ').filter(Boolean) ?? []),
      WEFT_BIN,
      'sidecar',
      '--dapr-http-port',
      String(httpPort),
      '--dapr-grpc-port',
      String(grpcPort),
      // Parallel sidecars would all claim daprd's default metrics port 9090; pick a free one.
      ...(args.includes('--metrics-port') ? [] : ['--metrics-port', '0']),
      ...args,
    ],
    { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`weft sidecar exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/v1.0/healthz/outbound`);
      if (res.status === 204) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`weft sidecar did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    httpPort,
    grpcPort,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
