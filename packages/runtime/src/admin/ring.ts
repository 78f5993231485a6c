/** A bounded, append-only buffer of the most recent entries (oldest dropped first). */
export class Ring<T> {
  private readonly items: T[] = [];
  /** Where the next entry goes once the buffer is full (the oldest entry's index). */
  private head = 0;

  /** @param capacity how many entries are kept. */
  constructor(private readonly capacity: number) {}

  /** Adds an entry in constant time (a full buffer overwrites its oldest entry, no shifting). */
  push(item: T): void {
    if (this.capacity <= 0) return;
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    this.items[this.head] = item;
    this.head = (this.head + 1) % this.capacity;
  }

  /** Oldest first. */
  private inOrder(): T[] {
    return this.head === 0 ? this.items.slice() : [...this.items.slice(this.head), ...this.items.slice(0, this.head)];
  }

  /** Newest first. */
  newest(): T[] {
    return this.inOrder().reverse();
  }

  find(match: (item: T) => boolean): T | undefined {
    return this.inOrder().find(match);
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
