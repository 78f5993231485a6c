/**
 * Prints one closing line "N passed, N failed, N skipped" after vitest's own summary, so CI tooling
 * that reads a plain closing line can count the run. Tests of a file that failed as a whole (an error
 * in `beforeAll`, say) count as failed, not skipped.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      const tests = [...module.children.allTests()];
      const moduleFailed = module.state() === 'failed';
      for (const test of tests) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed' || moduleFailed) failed += 1;
        else skipped += 1;
      }
      if (moduleFailed && tests.length === 0) failed += 1;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
