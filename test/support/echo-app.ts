/** Starts the invocation test app (`test/fixtures/invoke/echo-app.mjs`) as a child process. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './weft-process.js';

/** Absolute path of the echo app script. */
export const ECHO_APP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/invoke/echo-app.mjs');

/** What the echo app reports about a request. */
export interface Echo {
  app: string;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  size: number;
  sha256: string;
}

/** Waits until a TCP port accepts connections. */
export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A running echo app. */
export interface EchoApp {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the echo app on a free port under an app id. */
export async function startEchoApp(appId: string): Promise<EchoApp> {
  const port = await freePort();
  const child = spawn(process.execPath, [ECHO_APP], { env: { ...process.env, APP_PORT: String(port), APP_ID: appId }, stdio: 'ignore' });
  await waitForPort(port);
  return {
    port,
    child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
