/**
 * Prefixed, coloured output for `weft run`: every line of the sidecar and of the app is tagged with
 * where it came from, so interleaved logs stay readable.
 */
import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';

const COLORS = [36, 35, 33, 32, 34, 91, 96, 95];

/** Whether to colour output (a TTY, or FORCE_COLOR set; NO_COLOR wins). */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0') return true;
  return stream.isTTY === true;
}

/** A line prefixer: `label | line`, the label coloured by `colorIndex`. */
export function linePrefix(label: string, colorIndex: number, color: boolean): (line: string) => string {
  const code = COLORS[colorIndex % COLORS.length] ?? 36;
  const tag = color ? `\u001b[${code}m${label} |\u001b[0m ` : `${label} | `;
  return (line) => `${tag}${line}\n`;
}

/** Copies a readable stream line by line to `out`, prefixed. Resolves when the input ends. */
export function pipePrefixed(input: Readable, out: Writable, prefix: (line: string) => string): Promise<void> {
  return new Promise((resolve) => {
    const lines = createInterface({ input, crlfDelay: Infinity });
    lines.on('line', (line) => out.write(prefix(line)));
    lines.on('close', () => resolve());
  });
}

/** A writable that prefixes every line written to it (for the in-process sidecar's logger). */
export function prefixedWritable(out: Writable, prefix: (line: string) => string): NodeJS.WritableStream {
  let pending = '';
  return {
    write(chunk: string | Uint8Array): boolean {
      pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        out.write(prefix(pending.slice(0, newline)));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
      }
      return true;
    },
  } as NodeJS.WritableStream;
}
