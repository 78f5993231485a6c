/**
 * What a driver does when its handler rejects instead of answering `'ack'` or `'retry'`: the contract
 * says the message is retried, and this says so in the log, with the CloudEvent id, so the error is
 * never dropped unseen. (The sidecar's own handler reports and counts its errors before they get
 * here; this covers every other handler a driver is given.)
 */
import type { Logger } from '../../logging/logger.js';
import { cloudEventId } from '../../observability/delivery-errors.js';
import type { HandlerOutcome, PubSubMessage } from './store.js';

/** Logs the rejection once and answers `'retry'`. */
export function retryRejected(logger: Logger, message: PubSubMessage, err: unknown): HandlerOutcome {
  const id = cloudEventId(message.data) || '(no id)';
  const reason = err instanceof Error ? err.message : String(err);
  logger.warn(`handler failed on event ${id} from topic ${message.topic}: ${reason}; the message will be retried`, { eventId: id, topic: message.topic, error: reason });
  return 'retry';
}
