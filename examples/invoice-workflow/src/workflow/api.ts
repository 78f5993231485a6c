/**
 * The seed's HTTP API over `DaprWorkflowClient`:
 * `POST /api/workflows/invoice`, `GET /api/workflows/{id}`, `POST /api/workflows/{id}/terminate`,
 * `POST /api/workflows/{id}/raise-event/{event}`, and purge (`POST /api/workflows/{id}/purge` or
 * `DELETE /api/workflows/{id}`). The invoice id is the instance id, so starting the same invoice twice
 * is idempotent.
 */
import { WorkflowRuntimeStatus } from '@dapr/dapr';
import type { DaprWorkflowClient, WorkflowState } from '@dapr/dapr';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HttpError, parseBody } from '../shared/http-service.js';
import { ApprovalEvent, InvoiceId, InvoiceWorkflowInput } from '../shared/models.js';
import { APPROVAL_EVENT, WORKFLOW_NAME } from './invoice-workflow.js';

/** The JSON the API answers for an instance. */
export interface InstanceView {
  instance_id: string;
  workflow_name: string;
  runtime_status: string;
  created_at: string;
  last_updated_at: string;
  custom_status: string | null;
  input: unknown;
  output: unknown;
  failure: { error_type: string; message: string } | null;
}

function json(text: string | undefined): unknown {
  if (text === undefined || text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** An instance as the API shows it. */
export function instanceView(state: WorkflowState): InstanceView {
  const failure = state.workflowFailureDetails;
  return {
    instance_id: state.instanceId,
    workflow_name: state.name,
    runtime_status: WorkflowRuntimeStatus[state.runtimeStatus] ?? String(state.runtimeStatus),
    created_at: state.createdAt.toISOString(),
    last_updated_at: state.lastUpdatedAt.toISOString(),
    custom_status: (json(state.customStatus) as string | null) ?? null,
    input: json(state.serializedInput),
    output: json(state.serializedOutput),
    failure: failure ? { error_type: failure.getErrorType(), message: failure.getErrorMessage() } : null,
  };
}

const Params = z.object({ id: InvoiceId });
const EventParams = z.object({ id: InvoiceId, event: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'event: 1–64 letters, digits, ".", "_" or "-"') });

function params<T>(schema: z.ZodType<T>, raw: unknown): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new HttpError(400, 'invalid_request', parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

/** The statuses after which an instance runs no more. */
const FINISHED = [WorkflowRuntimeStatus.COMPLETED, WorkflowRuntimeStatus.FAILED, WorkflowRuntimeStatus.TERMINATED];

/** Registers the routes. */
export function registerApi(app: FastifyInstance, client: DaprWorkflowClient): void {
  const existing = async (id: string): Promise<WorkflowState> => {
    const state = await client.getWorkflowState(id, true);
    if (!state) throw new HttpError(404, 'not_found', `no workflow instance ${id}`);
    return state;
  };

  app.post('/api/workflows/invoice', async (req, reply) => {
    const input = parseBody(InvoiceWorkflowInput, req);
    const current = await client.getWorkflowState(input.invoice_id, true);
    if (current) {
      // Idempotent start: the same request again answers with the instance it started.
      if (JSON.stringify(json(current.serializedInput)) === JSON.stringify(input)) {
        return reply.status(200).send({ instance_id: input.invoice_id, status_url: `/api/workflows/${input.invoice_id}`, already_started: true });
      }
      throw new HttpError(409, 'conflict', `instance ${input.invoice_id} already exists with another input; purge it first`);
    }
    const instanceId = await client.scheduleNewWorkflow(WORKFLOW_NAME, input, input.invoice_id);
    req.log.info({ instance_id: instanceId, pdf_path: input.pdf_path }, 'started invoice workflow');
    return reply.status(202).send({ instance_id: instanceId, status_url: `/api/workflows/${instanceId}` });
  });

  app.get('/api/workflows/:id', async (req) => instanceView(await existing(params(Params, req.params).id)));

  app.post('/api/workflows/:id/terminate', async (req, reply) => {
    const { id } = params(Params, req.params);
    await existing(id);
    await client.terminateWorkflow(id, (req.body as unknown) ?? null);
    return reply.status(202).send({ instance_id: id, terminated: true });
  });

  app.post('/api/workflows/:id/raise-event/:event', async (req, reply) => {
    const { id, event } = params(EventParams, req.params);
    // The approval event's payload is checked here, so a typo is a 400 and not a rejected invoice.
    const payload = event.toLowerCase() === APPROVAL_EVENT ? parseBody(ApprovalEvent, req) : ((req.body as unknown) ?? null);
    const state = await existing(id);
    // A finished instance takes no more events (Weft's sidecar refuses them): say so instead of 202.
    if (FINISHED.includes(state.runtimeStatus)) {
      throw new HttpError(409, 'finished', `instance ${id} is ${WorkflowRuntimeStatus[state.runtimeStatus]} and accepts no more events`);
    }
    await client.raiseEvent(id, event, payload);
    req.log.info({ instance_id: id, event }, 'raised event');
    return reply.status(202).send({ instance_id: id, event });
  });

  const purge = async (id: string) => {
    const state = await existing(id);
    if (!FINISHED.includes(state.runtimeStatus)) throw new HttpError(409, 'not_finished', `instance ${id} is ${WorkflowRuntimeStatus[state.runtimeStatus]}; terminate it before purging`);
    await client.purgeWorkflow(id);
    return { instance_id: id, purged: true };
  };
  app.post('/api/workflows/:id/purge', async (req) => purge(params(Params, req.params).id));
  app.delete('/api/workflows/:id', async (req) => purge(params(Params, req.params).id));
}
