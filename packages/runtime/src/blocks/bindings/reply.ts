/**
 * Applies the app's reply to an input-binding event: saves `state` in `storeName` and sends `data`
 * to each binding in `to` (operation `create`), in parallel unless `concurrency` is sequential.
 * Failures are logged, not thrown: the event itself was delivered.
 */
import type { Logger } from '../../logging/logger.js';
import type { StateBlock } from '../state/state-block.js';
import type { BindingReply } from './app-transport.js';
import type { OutputBindings } from './output.js';

/** What applying a reply needs. */
export interface ReplyDeps {
  output: OutputBindings;
  state: StateBlock;
  logger: Logger;
  /** The input binding that delivered the event (for logs). */
  binding: string;
}

/** Saves the reply's state and invokes its output bindings. */
export async function applyReply(reply: BindingReply, deps: ReplyDeps): Promise<void> {
  const { logger } = deps;
  if (reply.storeName && reply.state.length > 0) {
    try {
      await deps.state.save(reply.storeName, reply.state);
    } catch (err) {
      logger.error(`cannot save state from the reply to input binding ${deps.binding}`, { error: (err as Error).message });
    }
  }
  const send = async (name: string) => {
    try {
      await deps.output.invoke(name, { operation: 'create', data: reply.data, metadata: {} });
    } catch (err) {
      logger.error(`cannot send the reply of input binding ${deps.binding} to ${name}`, { error: (err as Error).message });
    }
  };
  if (reply.concurrency === 'sequential') {
    for (const name of reply.to) await send(name);
  } else {
    await Promise.all(reply.to.map(send));
  }
}
