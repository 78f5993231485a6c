/**
 * A local stand-in for the mail provider (SendGrid's `POST /v3/mail/send`): checks the bearer API
 * key, de-duplicates on `Idempotency-Key`, and records what it accepted. `POST /admin/outage`
 * switches a simulated outage (503) on and off; `GET /admin/received` lists what arrived.
 * Production points the `notification-provider` binding at the real provider instead.
 */
import { appPort } from '../shared/config.js';
import { z } from 'zod';
import { createServer } from '../shared/http.js';

/** What the provider keeps of a request: the headers that matter and the mail, flattened. */
interface Received {
  idempotency_key: string;
  authorization: string;
  body: { to: string; subject: string; user_id: string; task_id: string; event_type: string };
  received_at: string;
}

/** The parts of SendGrid's v3 mail request this stand-in checks and records. */
const MailSchema = z.object({
  personalizations: z.array(z.object({ to: z.array(z.object({ email: z.string() })).min(1) })).min(1),
  from: z.object({ email: z.string() }),
  subject: z.string().min(1),
  content: z.array(z.object({ type: z.string(), value: z.string() })).min(1),
  custom_args: z.record(z.string(), z.string()).default({}),
});

const expectedKey = process.env['PROVIDER_API_KEY'] ?? 'local-dev-sendgrid-key';
const app = createServer();
const received = new Map<string, Received>();
const counters = { attempts: 0, accepted: 0, duplicates: 0, refused: 0, outageRejections: 0 };
let outage = false;

app.post('/v3/mail/send', async (req, reply) => {
  counters.attempts++;
  if (outage) {
    counters.outageRejections++;
    return reply.code(503).send({ errors: [{ message: 'provider unavailable (simulated outage)' }] });
  }
  const auth = req.headers.authorization ?? '';
  if (auth !== `Bearer ${expectedKey}`) {
    counters.refused++;
    return reply.code(401).send({ errors: [{ message: 'invalid API key' }] });
  }
  const key = String(req.headers['idempotency-key'] ?? '');
  if (key === '') return reply.code(400).send({ errors: [{ message: 'Idempotency-Key header is required' }] });
  const mail = MailSchema.safeParse(req.body);
  if (!mail.success) return reply.code(400).send({ errors: mail.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })) });
  if (received.has(key)) {
    counters.duplicates++;
    return reply.code(202).send({ status: 'duplicate' });
  }
  const args = mail.data.custom_args;
  received.set(key, {
    idempotency_key: key,
    authorization: auth,
    body: {
      to: mail.data.personalizations[0]?.to[0]?.email ?? '',
      subject: mail.data.subject,
      user_id: args['user_id'] ?? '',
      task_id: args['task_id'] ?? '',
      event_type: args['event_type'] ?? '',
    },
    received_at: new Date().toISOString(),
  });
  counters.accepted++;
  req.log.info({ key }, 'notification accepted');
  return reply.code(202).send({ status: 'accepted' });
});

app.post('/admin/outage', async (req) => {
  outage = (req.body as { down?: boolean } | undefined)?.down === true;
  app.log.info({ outage }, 'outage switched');
  return { outage };
});
app.get('/admin/received', () => ({ counters, outage, received: [...received.values()] }));
app.get('/healthz', () => ({ status: 'ok' }));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void app.close().then(() => process.exit(0)));
}
await app.listen({ host: '127.0.0.1', port: appPort(8003) });
