/**
 * A TCP proxy for fault tests: sits between the sidecar and a real backend and can delay every chunk,
 * cut every open connection, or refuse new ones, on command.
 */
import net from 'node:net';

/** A running proxy. */
export interface FaultProxy {
  port: number;
  /** Delay each chunk in both directions by `ms` (0 = none). */
  setDelay(ms: number): void;
  /** Destroy open connections and refuse new ones until {@link heal}. */
  drop(): void;
  /** Accept and forward again. */
  heal(): void;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** Starts a proxy on a free port in front of `targetHost:targetPort`. */
export async function startFaultProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<FaultProxy> {
  let delay = 0;
  let dropping = false;
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const pipe = (from: net.Socket, to: net.Socket) => {
    // One queue per direction, so chunks keep their order when the delay changes.
    const queue: { chunk: Buffer; due: number }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const drain = () => {
      timer = undefined;
      while (queue.length > 0 && (queue[0]?.due ?? 0) <= Date.now()) {
        const next = queue.shift();
        if (next && !to.destroyed) to.write(next.chunk);
      }
      if (queue.length > 0) timer = setTimeout(drain, (queue[0]?.due ?? 0) - Date.now());
    };
    from.on('data', (chunk: Buffer) => {
      queue.push({ chunk, due: Math.max(Date.now() + delay, queue.at(-1)?.due ?? 0) });
      if (!timer) drain();
    });
    from.on('close', () => to.destroy());
    from.on('error', () => to.destroy());
  };
  const server = net.createServer((client) => {
    if (dropping) {
      client.destroy();
      return;
    }
    accepted++;
    const upstream = net.connect({ host: targetHost, port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    setDelay: (ms) => {
      delay = ms;
    },
    drop: () => {
      dropping = true;
      for (const s of sockets) s.destroy();
    },
    heal: () => {
      dropping = false;
    },
    connections: () => accepted,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
