/**
 * Reachability of the real backing services (Postgres, Redis, RabbitMQ, MQTT, NATS) for suites that
 * use them. When one is down the suite is skipped with a loud message, except under `CI=true` or
 * `WEFT_REQUIRE_SERVICES=1`, where the suite fails instead: CI must never pass by skipping.
 */
import net from 'node:net';

/** A backing service and where it listens. */
export interface ServiceEndpoint {
  name: string;
  host: string;
  port: number;
}

/** The services this machine (and CI) runs. */
export const SERVICES = {
  postgres: { name: 'PostgreSQL', host: '127.0.0.1', port: 5432 },
  redis: { name: 'Redis', host: '127.0.0.1', port: 6379 },
  rabbitmq: { name: 'RabbitMQ', host: '127.0.0.1', port: 5672 },
  mqtt: { name: 'Mosquitto MQTT', host: '127.0.0.1', port: 1883 },
  nats: { name: 'NATS', host: '127.0.0.1', port: 4222 },
} as const satisfies Record<string, ServiceEndpoint>;

/** Connection strings the suites use. */
export const POSTGRES_URL = process.env['WEFT_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_HOST = process.env['WEFT_TEST_REDIS_HOST'] ?? '127.0.0.1:6379';

/** True when services are mandatory (CI). */
export function servicesRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['CI'] === 'true' || env['CI'] === '1' || env['WEFT_REQUIRE_SERVICES'] === '1';
}

/** Resolves true when a TCP connection to the service succeeds within the timeout. */
export function isReachable(service: ServiceEndpoint, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: service.host, port: service.port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Decides whether a suite that needs `service` runs. Returns true to run. When the service is down:
 * throws under CI (so the run fails), otherwise prints a loud banner and returns false (skip).
 */
export async function requireService(service: ServiceEndpoint, suite: string): Promise<boolean> {
  if (await isReachable(service)) return true;
  const message = `${service.name} is not reachable at ${service.host}:${service.port}; suite "${suite}" cannot run`;
  if (servicesRequired()) throw new Error(`${message} (required because CI=true or WEFT_REQUIRE_SERVICES=1)`);
  console.warn(`\n${'!'.repeat(100)}\n!! SKIPPED: ${message}.\n!! Start it (see README, "Services") or set WEFT_REQUIRE_SERVICES=1 to make this a failure.\n${'!'.repeat(100)}\n`);
  return false;
}
