/**
 * Bulk subscribe: messages of one subscription are gathered until `maxMessagesCount` or
 * `maxAwaitDurationMs`, grouped by route, and delivered as one bulk request per route. Each entry is
 * settled by its own status; entries to retry are sent again (only those) with backoff, under the
 * component's inbound resiliency policy when one applies.
 */
import { randomUUID } from 'node:crypto';
import type { HandlerOutcome, PubSubMessage } from '../../components/pubsub/store.js';
import type { CloudEvent } from './cloudevents.js';
import { hasExpired } from './cloudevents.js';
import type { BulkEntry, Verdict } from './delivery.js';
import { deliverBulk } from './delivery.js';
import type { HandlerContext } from './handler.js';
import { appAvailable, decodeMessage, isRawPayload, settle } from './handler.js';
import { backoffMs, sleep } from './retry.js';
import { markPermanent } from '../../resiliency/policy.js';
import { selectRoute } from './routing.js';

interface Pending {
  message: PubSubMessage;
  resolve(outcome: HandlerOutcome): void;
}

interface Routed extends Pending {
  entryId: string;
  event: CloudEvent;
}

/** Collects messages into batches and delivers them. */
export class BulkHandler {
  private buffer: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: HandlerContext) {}

  /** The driver-facing handler: resolves when this message's entry is settled. */
  handle(message: PubSubMessage): Promise<HandlerOutcome> {
    return new Promise((resolve) => {
      this.buffer.push({ message, resolve });
      const settings = this.ctx.spec.bulkSubscribe;
      if (this.buffer.length >= (settings?.maxMessagesCount ?? 100)) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), settings?.maxAwaitDurationMs ?? 1000);
    });
  }

  /** Delivers what is buffered now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length > 0) void this.deliver(batch);
  }

  private async deliver(batch: Pending[]): Promise<void> {
    const byPath = new Map<string, Routed[]>();
    for (const item of batch) {
      const decoded = decodeMessage(this.ctx.spec, item.message);
      if ('error' in decoded) {
        item.resolve(await settle(this.ctx, item.message, 'drop', decoded.error));
        continue;
      }
      if (hasExpired(decoded.event)) {
        item.resolve(await settle(this.ctx, item.message, 'drop', 'event expired'));
        continue;
      }
      const path = selectRoute(this.ctx.spec.rules, decoded.event);
      if (path === undefined) {
        item.resolve(await settle(this.ctx, item.message, 'drop', 'no route matched the event'));
        continue;
      }
      const list = byPath.get(path) ?? [];
      list.push({ ...item, entryId: randomUUID(), event: decoded.event });
      byPath.set(path, list);
    }
    await Promise.all([...byPath].map(([path, items]) => this.deliverRoute(path, items)));
  }

  private async deliverRoute(path: string, items: Routed[]): Promise<void> {
    const { ctx } = this;
    let remaining = items;
    let reason = '';
    const inbound = ctx.inbound && !ctx.inbound.isNoop ? ctx.inbound : undefined;
    if (inbound) {
      // The component's inbound policy decides retries; an attempt fails while entries remain.
      await inbound
        .execute(async ({ signal }) => {
          if (!(await appAvailable(ctx))) throw markPermanent(new Error('the subscription stopped'));
          const result = await this.attempt(path, remaining, signal);
          if (signal.aborted) throw new Error('the attempt timed out');
          remaining = result.next;
          reason = result.reason;
          if (remaining.length > 0) throw new Error(reason);
        })
        .catch(() => undefined);
    } else {
      for (let attempt = 0; attempt <= ctx.policy.maxRetries && remaining.length > 0; attempt++) {
        if (attempt > 0 && !(await sleep(backoffMs(ctx.policy, attempt), ctx.signal))) break;
        if (!(await appAvailable(ctx))) break;
        const result = await this.attempt(path, remaining);
        remaining = result.next;
        reason = result.reason;
      }
    }
    for (const r of remaining) r.resolve(await settle(ctx, r.message, 'retry', reason));
  }

  /** One bulk request with the entries still to deliver; settles the decided ones, returns the rest. */
  private async attempt(path: string, remaining: Routed[], attemptSignal?: AbortSignal): Promise<{ next: Routed[]; reason: string }> {
    const { ctx } = this;
    const raw = isRawPayload(ctx.spec);
    const entries: BulkEntry[] = remaining.map((r) => ({ entryId: r.entryId, event: raw ? r.message.data : r.event, metadata: r.message.metadata }));
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    attemptSignal?.addEventListener('abort', onAbort, { once: true });
    try {
      const started = performance.now();
      const result = await deliverBulk({
        channel: ctx.channel,
        path,
        pubsubName: ctx.spec.pubsubName,
        topic: ctx.spec.topic,
        metadata: {},
        entries,
        timeoutMs: ctx.policy.deliveryTimeoutMs,
        signal: controller.signal,
      });
      for (const warning of result.warnings ?? []) ctx.logger.warn(warning, { pubsubName: ctx.spec.pubsubName, topic: ctx.spec.topic, route: path });
      const timedOut = attemptSignal?.aborted === true;
      this.recordAttempt(remaining, timedOut ? undefined : result.verdicts, performance.now() - started);
      // A timed-out attempt settles nothing: the policy's next attempt owns the entries.
      if (timedOut) return { next: remaining, reason: 'the attempt timed out' };
      const next: Routed[] = [];
      for (const r of remaining) {
        const verdict: Verdict = result.verdicts.get(r.entryId) ?? 'retry';
        if (verdict === 'retry') next.push(r);
        else r.resolve(await settle(ctx, r.message, verdict, `bulk entry ${verdict}`));
      }
      return { next, reason: result.reason ?? 'the app answered RETRY' };
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      attemptSignal?.removeEventListener('abort', onAbort);
    }
  }

  /** `dapr_component_pubsub_ingress_bulk_*`: one bulk call, its entries by the app's status (all RETRY without verdicts). */
  private recordAttempt(entries: Routed[], verdicts: ReadonlyMap<string, Verdict> | undefined, durationMs: number): void {
    const metrics = this.ctx.metrics?.pubsubBulk;
    if (!metrics) return;
    const counts = { SUCCESS: 0, RETRY: 0, DROP: 0 };
    for (const r of entries) {
      const verdict = verdicts?.get(r.entryId) ?? 'retry';
      counts[verdict === 'success' ? 'SUCCESS' : verdict === 'retry' ? 'RETRY' : 'DROP'] += 1;
    }
    metrics.recordIngress(this.ctx.spec.pubsubName, this.ctx.spec.topic, counts, durationMs);
  }
}
