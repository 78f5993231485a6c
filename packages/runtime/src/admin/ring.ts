/** A bounded, append-only buffer of the most recent entries (oldest dropped first). */
export class Ring<T> {
  private readonly items: T[] = [];

  /** @param capacity how many entries are kept. */
  constructor(private readonly capacity: number) {}

  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }

  /** Newest first. */
  newest(): T[] {
    return [...this.items].reverse();
  }

  find(match: (item: T) => boolean): T | undefined {
    return this.items.find(match);
  }

  get size(): number {
    return this.items.length;
  }
}

/** Text of a payload for display: UTF-8, cut at `max` bytes. */
export function previewText(data: Buffer, max = 4096): string {
  const cut = data.length > max ? data.subarray(0, max) : data;
  return cut.toString('utf8') + (data.length > max ? '…' : '');
}
