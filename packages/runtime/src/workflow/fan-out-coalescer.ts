/**
 * Fan-out coalescing: while an instance has activities whose results are due here, an activity result
 * does not dispatch its orchestrator at once. It is held back until the last of them is in, or
 * `windowMs` after the first held result, whichever comes first, so a 10-way fan-out runs its
 * orchestrator about twice (schedule, then all results) instead of once per result, and re-sends its
 * history that much less often. With one activity out (a sequence), nothing is held.
 *
 * Deliberately not here: which instance the store hands out next (the dispatcher passes
 * {@link FanOutCoalescer.held} to the claim query as instances to skip) and anything durable: a hold
 * is in memory only, and losing it costs one more dispatch, never a result.
 */

/** Per-instance counts of due activity results and the holds they cause. */
export class FanOutCoalescer {
  /**
   * Per instance: activities whose results are due here and not stored yet: sent from here, or left
   * in the store's queue by a step committed here (counted in {@link queued} too, until sent).
   */
  private readonly open = new Map<string, number>();
  /** Per instance: activities a step committed here left in the store's queue (no stream had room). */
  private readonly queued = new Map<string, number>();
  /** Per instance: results of activities sent from here that are being stored now, and who waits for them. */
  private readonly beingStored = new Map<string, { count: number; settled: (() => void)[] }>();
  /** Instances whose orchestrator is held back, until when (`Date.now()`). */
  private readonly holds = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  /**
   * @param windowMs the longest hold after the first held result; 0 turns coalescing off.
   * @param release called when holds end (their orchestrators are due now).
   */
  constructor(
    private readonly windowMs: number,
    private readonly release: () => void,
  ) {}

  /** An activity of the instance was sent; `claimed`: taken from the store's queue (not pushed by a step). */
  sent(instanceId: string, claimed: boolean): void {
    const queued = claimed ? (this.queued.get(instanceId) ?? 0) : 0;
    // One of the instance's queued activities going out was counted as due already.
    if (queued > 1) this.queued.set(instanceId, queued - 1);
    else if (queued === 1) this.queued.delete(instanceId);
    else this.open.set(instanceId, (this.open.get(instanceId) ?? 0) + 1);
  }

  /**
   * An activity of the instance is no longer due here (its result was stored, or it was released).
   * `dispatched`: its orchestrator was dispatched already (locked with the result), so ending its hold
   * needs no claim.
   */
  closed(instanceId: string, dispatched = false): void {
    const open = (this.open.get(instanceId) ?? 0) - 1;
    if (open > 0) {
      this.open.set(instanceId, open);
      return;
    }
    this.open.delete(instanceId);
    this.queued.delete(instanceId);
    // Nothing more is due here: a held orchestrator goes now.
    if (this.holds.delete(instanceId) && !dispatched) this.release();
  }

  /**
   * For a result of the instance arriving now (`taken` as in {@link stored}), before it is stored:
   * `hold` when {@link stored} would hold the orchestrator back (more results are due), `after` when
   * the only other results due are being stored right now (wait for {@link othersStored}, then ask
   * again), `now` when nothing else is due: the result may lock the instance.
   */
  dispatchAfter(instanceId: string, taken: boolean): 'hold' | 'after' | 'now' {
    if (this.windowMs <= 0) return 'now';
    const storing = this.beingStored.get(instanceId)?.count ?? 0;
    if ((this.open.get(instanceId) ?? 0) - (taken ? 1 : 0) - storing > 0) return 'hold';
    return storing > 0 ? 'after' : 'now';
  }

  /** A result of an activity sent from here is being stored (until {@link stored}). */
  storeBegins(instanceId: string): void {
    const s = this.beingStored.get(instanceId);
    if (s) s.count += 1;
    else this.beingStored.set(instanceId, { count: 1, settled: [] });
  }

  /** Resolves once the instance's results being stored now are stored (or failed to be). */
  othersStored(instanceId: string): Promise<void> {
    const s = this.beingStored.get(instanceId);
    return s ? new Promise<void>((resolve) => s.settled.push(resolve)) : Promise.resolve();
  }

  /**
   * An activity result of the instance is stored (`taken`: one sent from here; `dispatched`: the
   * orchestrator was locked with it and sent, see {@link closed}). Returns true when its orchestrator
   * is held back for more results.
   */
  stored(instanceId: string, taken: boolean, dispatched = false): boolean {
    if (taken) {
      const s = this.beingStored.get(instanceId);
      if (s && --s.count <= 0) {
        this.beingStored.delete(instanceId);
        for (const settled of s.settled) settled();
      }
      this.closed(instanceId, dispatched);
    }
    if (dispatched) {
      this.holds.delete(instanceId);
      return false;
    }
    if (this.windowMs <= 0 || !this.open.has(instanceId)) {
      this.holds.delete(instanceId);
      return false;
    }
    if (!this.holds.has(instanceId)) {
      const until = Date.now() + this.windowMs;
      this.holds.set(instanceId, until);
      this.arm(until);
    }
    return true;
  }

  /**
   * A step committed here scheduled `count` activities it did not push (they wait in the store's
   * queue): their results are due too. Only as long as the window: another replica's worker may run
   * them, and its results are not seen here.
   */
  expectQueued(instanceId: string, count: number): void {
    if (count <= 0 || this.windowMs <= 0) return;
    this.queued.set(instanceId, (this.queued.get(instanceId) ?? 0) + count);
    this.open.set(instanceId, (this.open.get(instanceId) ?? 0) + count);
  }

  /** Stops expecting the instance's queued activities (the window ended, or the instance finished). */
  forgetQueued(instanceId: string): void {
    const queued = this.queued.get(instanceId);
    if (queued === undefined) return;
    this.queued.delete(instanceId);
    const open = (this.open.get(instanceId) ?? 0) - queued;
    if (open > 0) this.open.set(instanceId, open);
    else this.open.delete(instanceId);
  }

  /** Instances held back now, for the claim query to skip; undefined when none is. */
  held(): ReadonlySet<string> | undefined {
    return this.holds.size > 0 ? new Set(this.holds.keys()) : undefined;
  }

  /** Stops the window timer. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private arm(until: number): void {
    if (until >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = until;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      const now = Date.now();
      let next = Infinity;
      let due = false;
      for (const [id, at] of this.holds) {
        if (at <= now) {
          this.holds.delete(id);
          this.forgetQueued(id);
          due = true;
        } else next = Math.min(next, at);
      }
      if (next !== Infinity) this.arm(next);
      if (due) this.release();
    }, Math.max(1, until - Date.now()));
    this.timer.unref();
  }
}
