import { describe, expect, it } from 'vitest';
import { WARM_UP_HEADER, isWarmUp, warmUp } from './warm-up.js';

describe('warm-up', () => {
  it('recognises only this process token, not any value of the header', () => {
    expect(isWarmUp({ [WARM_UP_HEADER]: 'guess' })).toBe(false);
    expect(isWarmUp({})).toBe(false);
  });

  it('resolves with the failure instead of rejecting when nothing answers', async () => {
    // Port 9 (discard) on loopback: nothing listens there in the test environment.
    const result = await warmUp({ apiHost: '127.0.0.1', apiPort: 9, internalHost: '127.0.0.1', internalPort: 9, budgetMs: 200 });
    expect(result.calls).toBe(0);
    expect(result.failed).toBeGreaterThan(0);
  });
});
