/**
 * Logging on pino. JSON lines follow daprd's shape (`time`, `level`, `msg`, `scope`, `app_id`,
 * `type: "log"`), so log pipelines built for Dapr keep working; text mode prints the same fields for
 * people. Each component logs through a child logger named by its scope.
 */
import os from 'node:os';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger as PinoLogger } from 'pino';

/** Log levels, as daprd's `--log-level` spells them. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** Extra structured fields on a log line. */
export type LogFields = Record<string, unknown>;

/** The logging surface the runtime uses. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines carry `scope` (e.g. `weft.runtime.state`). */
  child(scope: string): Logger;
  isLevelEnabled(level: LogLevel): boolean;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** @default 'info' */
  level?: LogLevel;
  /** JSON lines instead of text. @default false */
  json?: boolean;
  appId?: string;
  /** Where lines go. @default process.stdout */
  destination?: NodeJS.WritableStream;
  /** Also given every JSON line as written (the admin API's recent logs). */
  onLine?: (jsonLine: string) => void;
}

/** Hands each JSON line to `onLine`, then passes the chunk on unchanged. */
function lineTap(next: NodeJS.WritableStream, onLine: (line: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') onLine(line);
      next.write(chunk);
      done();
    },
  });
}

const LEVEL_TAG: Record<string, string> = { debug: 'DEBU', info: 'INFO', warn: 'WARN', error: 'ERRO', fatal: 'FATA' };
const RESERVED = new Set(['time', 'level', 'msg', 'scope', 'app_id', 'type', 'ver', 'instance']);

/** Turns pino's JSON lines into `time LEVEL [scope] message k=v` for humans. */
function textStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          const extra = Object.entries(entry)
            .filter(([k]) => !RESERVED.has(k))
            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join(' ');
          const tag = LEVEL_TAG[String(entry['level'])] ?? String(entry['level']).toUpperCase();
          out.write(`${String(entry['time'])} ${tag} [${String(entry['scope'] ?? 'weft')}] ${String(entry['msg'] ?? '')}${extra ? ` ${extra}` : ''}\n`);
        } catch {
          out.write(`${line}\n`);
        }
      }
      done();
    },
  });
}

class PinoAdapter implements Logger {
  constructor(private readonly inner: PinoLogger) {}
  debug(message: string, fields?: LogFields): void {
    if (fields) this.inner.debug(fields, message);
    else this.inner.debug(message);
  }
  info(message: string, fields?: LogFields): void {
    if (fields) this.inner.info(fields, message);
    else this.inner.info(message);
  }
  warn(message: string, fields?: LogFields): void {
    if (fields) this.inner.warn(fields, message);
    else this.inner.warn(message);
  }
  error(message: string, fields?: LogFields): void {
    if (fields) this.inner.error(fields, message);
    else this.inner.error(message);
  }
  child(scope: string): Logger {
    return new PinoAdapter(this.inner.child({ scope }));
  }
  isLevelEnabled(level: LogLevel): boolean {
    return this.inner.isLevelEnabled(level);
  }
}

/** Creates the root logger of a sidecar or CLI process. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stdout;
  const formatted = options.json ? destination : textStream(destination);
  const stream = options.onLine ? lineTap(formatted, options.onLine) : formatted;
  const inner = pino(
    {
      level: options.level ?? 'info',
      messageKey: 'msg',
      base: { app_id: options.appId ?? '', instance: os.hostname(), scope: 'weft.runtime', type: 'log', ver: 'weft' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream as NodeJS.WritableStream & { write(chunk: string): boolean },
  );
  return new PinoAdapter(inner);
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  const self: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: () => {},
    child: () => self,
    isLevelEnabled: () => false,
  };
  return self;
}
