/**
 * The app's optional reply to an input-binding event:
 * `{"storeName":"s","state":[{"key":"k","value":…}],"to":["b1"],"concurrency":"parallel|sequential","data":…}`.
 * Dapr saves the state and sends `data` to each binding in `to` (operation `create`). Failures are
 * logged, not thrown: the event itself was delivered.
 */
import type { Logger } from '../../logging/logger.js';
import type { StateBlock } from '../state.js';
import type { OutputBindings } from './output.js';

/** What applying a reply needs. */
export interface ReplyDeps {
  output: OutputBindings;
  state: StateBlock;
  logger: Logger;
  /** The input binding that delivered the event (for logs). */
  binding: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Saves the reply's state and invokes its output bindings. */
export async function applyReply(body: Buffer, deps: ReplyDeps): Promise<void> {
  if (body.length === 0) return;
  let reply: unknown;
  try {
    reply = JSON.parse(body.toString('utf8'));
  } catch {
    return; // A non-JSON answer is just the app's acknowledgement.
  }
  if (!isRecord(reply)) return;
  const { logger } = deps;
  const storeName = reply['storeName'];
  const state = reply['state'];
  if (typeof storeName === 'string' && storeName !== '' && Array.isArray(state) && state.length > 0) {
    const items = state.filter(isRecord).flatMap((s) =>
      typeof s['key'] === 'string' ? [{ key: s['key'], value: Buffer.from(JSON.stringify(s['value'] ?? null)) }] : [],
    );
    try {
      await deps.state.save(storeName, items);
    } catch (err) {
      logger.error(`cannot save state from the reply to input binding ${deps.binding}`, { error: (err as Error).message });
    }
  }
  const to = Array.isArray(reply['to']) ? reply['to'].filter((t): t is string => typeof t === 'string') : [];
  if (to.length === 0) return;
  const data = Buffer.from(JSON.stringify(reply['data'] ?? null));
  const send = async (name: string) => {
    try {
      await deps.output.invoke(name, { operation: 'create', data, metadata: {} });
    } catch (err) {
      logger.error(`cannot send the reply of input binding ${deps.binding} to ${name}`, { error: (err as Error).message });
    }
  };
  if (reply['concurrency'] === 'sequential') {
    for (const name of to) await send(name);
  } else {
    await Promise.all(to.map(send));
  }
}
