/**
 * Group commit for a backend whose writes are asynchronous: the writes of one kind asked for in the
 * same event loop turn go to the database together (`flush`, one statement and one commit for all),
 * and each caller is answered after that commit. While `maxInFlight` batches are being committed,
 * new writes wait and go together with the next one: under load batches grow instead of commits
 * queueing up for the disk. When a batch of several fails, each write is tried
 * again on its own, so one bad write never fails the others.
 */
export class WriteBatcher<I, R> {
  private queue: { item: I; resolve: (result: R) => void; reject: (err: unknown) => void }[] = [];
  private scheduled = false;
  private inFlight = 0;

  /**
   * `flush` writes the items in one transaction and returns their results in the same order.
   * @param maxInFlight batches committing at once. @default 2
   */
  constructor(
    private readonly flush: (items: I[]) => Promise<R[]>,
    private readonly maxInFlight = 2,
  ) {}

  /** Queues a write for this turn's batch; resolves with its result once the batch committed. */
  add(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
      this.inFlight += 1;
      void this.run().finally(() => {
        this.inFlight -= 1;
        this.schedule();
      });
    });
  }

  private async run(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    try {
      const results = await this.flush(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i] as R));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      await Promise.all(batch.map((w) => this.flush([w.item]).then(([result]) => w.resolve(result as R), w.reject)));
    }
  }
}
