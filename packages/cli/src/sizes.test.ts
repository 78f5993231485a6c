import { describe, expect, it } from 'vitest';
import { parseByteSize } from './sizes.js';

describe('parseByteSize', () => {
  it('reads binary and decimal units as the Dapr CLI writes them', () => {
    expect(parseByteSize('4Mi')).toBe(4 * 1024 * 1024);
    expect(parseByteSize('4MB')).toBe(4_000_000);
    expect(parseByteSize('16Ki')).toBe(16_384);
    expect(parseByteSize('512')).toBe(512);
  });

  it('rejects text with an unknown unit and names the accepted forms', () => {
    expect(() => parseByteSize('4 parsecs')).toThrow(/expected e\.g\. 4Mi/);
    expect(() => parseByteSize('')).toThrow(/invalid size/);
  });
});
