/**
 * notification-service: subscribes to `task-events` and `reminders` (programmatic subscription at
 * `/dapr/subscribe`), turns events into notifications and sends each exactly once to the provider.
 *
 * Delivery contract (Dapr's): `SUCCESS` when sent or already sent, `RETRY` when the provider could
 * not be reached (the broker redelivers later, so nothing is lost while the provider is down),
 * `DROP` for events that can never be processed (malformed).
 */
import type { DaprClient } from '@dapr/dapr';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { COMPONENTS, TOPICS } from '../shared/config.js';
import type { TaskEvent } from '../shared/events.js';
import { TaskEventSchema } from '../shared/events.js';
import type { StateClient } from '../shared/state.js';
import type { Notification } from './sender.js';
import { ApiKey, sendNotification } from './sender.js';
import { createServer } from '../shared/http.js';

const CloudEventSchema = z.object({ id: z.string().min(1), data: z.unknown() });

/** A notification as kept for the user's list. */
export interface SentNotification {
  id: string;
  task_id: string;
  event_type: string;
  subject: string;
  sent_at: string;
}

const SENT_TTL_SECONDS = 7 * 24 * 3600;
const LIST_LIMIT = 50;

/** Which events notify, and what they say. Others are acknowledged without a notification. */
function compose(eventId: string, event: TaskEvent): Notification | undefined {
  const title = typeof event.task_data['title'] === 'string' ? event.task_data['title'] : event.task_id;
  const subjects: Record<string, string> = {
    'task.created': `New task: ${title}`,
    'task.completed': `Completed: ${title}`,
    'reminder.due': `Reminder: ${title}`,
    'manual': `About your task: ${title}`,
  };
  const subject = subjects[event.event_type];
  if (!subject) return undefined;
  return { idempotency_key: eventId, to: event.user_id, subject, body: subject, task_id: event.task_id, event_type: event.event_type };
}

/** Builds the app (not listening). */
export function buildNotificationService(deps: { dapr: DaprClient; state: StateClient; logLevel?: string }): FastifyInstance {
  const app = createServer(deps.logLevel);
  const apiKey = new ApiKey(deps.dapr);
  const stats = { delivered: 0, duplicates: 0, retries: 0, dropped: 0, lastError: null as string | null };

  /** Sends unless already sent; returns false when it must be retried. */
  const deliver = async (eventId: string, notification: Notification): Promise<'sent' | 'duplicate'> => {
    const marker = `notified:${eventId}`;
    if (await deps.state.get(marker)) return 'duplicate';
    await sendNotification(deps.dapr, apiKey, notification);
    // Marked after sending: a crash in between resends, and the provider de-duplicates on the
    // Idempotency-Key, so the user still gets one message.
    await deps.state.save(marker, { sent_at: new Date().toISOString() }, { ttlSeconds: SENT_TTL_SECONDS });
    const entry: SentNotification = { id: eventId, task_id: notification.task_id, event_type: notification.event_type, subject: notification.subject, sent_at: new Date().toISOString() };
    await deps.state.update<SentNotification[], void>(
      `notifications:${notification.to}`,
      (list = []) => (list.some((n) => n.id === eventId) ? { skip: true, result: undefined } : { value: [entry, ...list].slice(0, LIST_LIMIT), result: undefined }),
      { ttlSeconds: SENT_TTL_SECONDS },
    );
    return 'sent';
  };

  const handle = async (body: unknown) => {
    const envelope = CloudEventSchema.safeParse(body);
    const event = envelope.success ? TaskEventSchema.safeParse(envelope.data.data) : undefined;
    if (!envelope.success || !event?.success) {
      stats.dropped++;
      app.log.warn({ body }, 'malformed event dropped');
      return { status: 'DROP' };
    }
    const notification = compose(envelope.data.id, event.data);
    if (!notification) return { status: 'SUCCESS' };
    try {
      const outcome = await deliver(envelope.data.id, notification);
      if (outcome === 'duplicate') stats.duplicates++;
      else stats.delivered++;
      app.log.info({ event: envelope.data.id, type: event.data.event_type, outcome }, 'notification handled');
      return { status: 'SUCCESS' };
    } catch (err) {
      stats.retries++;
      stats.lastError = err instanceof Error ? err.message : String(err);
      app.log.warn({ event: envelope.data.id, error: stats.lastError }, 'notification not sent; asking for redelivery');
      return { status: 'RETRY' };
    }
  };

  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/dapr/subscribe', () => [
    { pubsubname: COMPONENTS.pubsub, topic: TOPICS.taskEvents, route: '/events/task-events' },
    { pubsubname: COMPONENTS.pubsub, topic: TOPICS.reminders, route: '/events/reminders' },
  ]);
  app.post('/events/task-events', async (req) => handle(req.body));
  app.post('/events/reminders', async (req) => handle(req.body));

  /** The seed's `api/notify` (service invocation): notify a user about a task now. */
  app.post('/api/notify', async (req, reply) => {
    const input = z.object({ task_id: z.string().min(1), user_id: z.string().min(1), message: z.string().optional(), request_id: z.string().optional() }).safeParse(req.body);
    if (!input.success) return reply.code(400).send({ error: 'invalid request', details: input.error.issues });
    const id = input.data.request_id ?? `manual:${input.data.task_id}:${Date.now()}`;
    const subject = input.data.message ?? `About your task ${input.data.task_id}`;
    const outcome = await deliver(id, { idempotency_key: id, to: input.data.user_id, subject, body: subject, task_id: input.data.task_id, event_type: 'manual' });
    return reply.code(202).send({ id, outcome });
  });

  app.get('/api/notifications/:userId', async (req) => {
    const { userId } = req.params as { userId: string };
    return { notifications: (await deps.state.get<SentNotification[]>(`notifications:${userId}`))?.value ?? [] };
  });
  app.get('/api/status', () => stats);
  return app;
}
