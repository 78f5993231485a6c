/**
 * The web page is committed built (`web/dist`), so the one-command start needs no build step. This
 * rebuilds it into a temp dir and fails when the committed files no longer match the sources:
 * run `npm run build:web -w examples/todo` and commit.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { EXAMPLE_DIR } from './support/platform.js';

const out = mkdtempSync(path.join(os.tmpdir(), 'weft-todo-web-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** File → sha256 (contents would make an unreadable diff). */
function files(dir: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    result[path.relative(dir, full)] = createHash('sha256').update(readFileSync(full)).digest('hex');
  }
  return result;
}

describe('web page', () => {
  // The root tsconfig covers `.ts` only; the page (`.tsx`, DOM, JSX) has its own.
  it('type-checks', async () => {
    const tsc = path.resolve(EXAMPLE_DIR, '../../node_modules/typescript/bin/tsc');
    await expect(promisify(execFile)(process.execPath, [tsc, '-p', path.join(EXAMPLE_DIR, 'web/tsconfig.json')])).resolves.toBeDefined();
  }, 120_000);

  it('web/dist is the build of web/src', async () => {
    // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
    const nodeEnv = process.env['NODE_ENV'];
    process.env['NODE_ENV'] = 'production';
    try {
      await build({ configFile: path.join(EXAMPLE_DIR, 'web/vite.config.mts'), logLevel: 'silent', build: { outDir: out, emptyOutDir: true } });
    } finally {
      process.env['NODE_ENV'] = nodeEnv;
    }
    expect(files(path.join(EXAMPLE_DIR, 'web/dist')), 'web/dist is stale: run `npm run build:web -w examples/todo` and commit it').toEqual(files(out));
  }, 120_000);
});
