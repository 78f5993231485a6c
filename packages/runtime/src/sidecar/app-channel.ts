/**
 * Waits for the app to open its port, as daprd does: a TCP connect every 100 ms (500 ms dial timeout)
 * until one succeeds. Subscriptions, bindings and invocation to the app start only after that.
 */
import net from 'node:net';

/** Resolves once a TCP connection to host:port succeeds, or rejects when `signal` aborts. */
export async function waitForAppPort(host: string, port: number, signal: AbortSignal, intervalMs = 100): Promise<void> {
  while (!signal.aborted) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(500, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error('stopped waiting for the app port');
}
