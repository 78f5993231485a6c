import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'test/**/*.test.ts',
      // Each reference app's end-to-end tests, run through real `weft` processes.
      'examples/*/test/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites share real services (Redis, Postgres) but every test uses unique key prefixes and tables.
    fileParallelism: true,
    // Console output only for failing tests: the SDKs' workflow internals log every step.
    silent: 'passed-only',
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
