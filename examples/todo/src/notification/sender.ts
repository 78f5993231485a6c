/**
 * Sends one notification to the provider through the `notification-provider` HTTP output binding,
 * authenticated with the API key from the secret store (`sendgrid-secret` / `api-key`). The
 * sidecar's resiliency policy (retries, circuit breaker, timeout) wraps the binding call.
 */
import type { DaprClient } from '@dapr/dapr';
import { COMPONENTS } from '../shared/config.js';

/** What the provider receives (a SendGrid-like mail request). */
export interface Notification {
  /** Stable per event: the provider and this service de-duplicate on it. */
  idempotency_key: string;
  to: string;
  subject: string;
  body: string;
  task_id: string;
  event_type: string;
}

/** Reads and caches the provider API key. */
export class ApiKey {
  private cached: string | undefined;

  constructor(private readonly dapr: DaprClient) {}

  async get(): Promise<string> {
    if (this.cached) return this.cached;
    const secret = (await this.dapr.secret.get(COMPONENTS.secrets, 'sendgrid-secret')) as Record<string, string>;
    const key = secret['api-key'];
    if (!key) throw new Error(`secret store "${COMPONENTS.secrets}" has no api-key in sendgrid-secret`);
    this.cached = key;
    return key;
  }

  /** Forget the key (after the provider refuses it: it may have been rotated). */
  reset(): void {
    this.cached = undefined;
  }
}

/** Where mail goes for a user id that is not an address itself. */
const MAIL_DOMAIN = process.env['NOTIFY_MAIL_DOMAIN'] ?? 'example.com';
const MAIL_FROM = process.env['NOTIFY_MAIL_FROM'] ?? `todo@${MAIL_DOMAIN}`;

/** SendGrid's v3 `mail/send` request for a notification; `custom_args` carry our ids back in webhooks. */
export function sendGridMail(n: Notification): Record<string, unknown> {
  const to = n.to.includes('@') ? n.to : `${n.to}@${MAIL_DOMAIN}`;
  return {
    personalizations: [{ to: [{ email: to }] }],
    from: { email: MAIL_FROM },
    subject: n.subject,
    content: [{ type: 'text/plain', value: n.body }],
    custom_args: { user_id: n.to, task_id: n.task_id, event_type: n.event_type, idempotency_key: n.idempotency_key },
  };
}

/** Sends through the binding; throws when the provider did not accept it. */
export async function sendNotification(dapr: DaprClient, apiKey: ApiKey, notification: Notification): Promise<void> {
  const key = await apiKey.get();
  try {
    await dapr.binding.send(COMPONENTS.notificationProvider, 'post', sendGridMail(notification), {
      path: '/v3/mail/send',
      Authorization: `Bearer ${key}`,
      'Idempotency-Key': notification.idempotency_key,
      'Content-Type': 'application/json',
    });
  } catch (err) {
    if (String(err).includes('401')) apiKey.reset();
    throw err;
  }
}
