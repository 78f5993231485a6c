/**
 * The category of each Dapr error code, as daprd's catalog assigns it (`pkg/messages/errorcodes`):
 * the `category` label of `dapr_error_code_total`. Codes daprd does not catalogue have no category
 * and, as in daprd, are not counted.
 */
import type { ApiError } from './api-error.js';

/** Dapr's error categories. */
export type ErrorCategory =
  | 'actor'
  | 'workflow'
  | 'state'
  | 'configuration'
  | 'crypto'
  | 'secret'
  | 'pubsub'
  | 'conversation'
  | 'service-invocation'
  | 'binding'
  | 'lock'
  | 'job'
  | 'health'
  | 'common';

const CATALOG: Record<ErrorCategory, readonly string[]> = {
  actor: [
    'ERR_ACTOR_INSTANCE_MISSING',
    'ERR_ACTOR_INVOKE_METHOD',
    'ERR_ACTOR_RUNTIME_NOT_FOUND',
    'ERR_ACTOR_STATE_GET',
    'ERR_ACTOR_STATE_TRANSACTION_SAVE',
    'ERR_ACTOR_REMINDER_CREATE',
    'ERR_ACTOR_REMINDER_DELETE',
    'ERR_ACTOR_REMINDER_GET',
    'ERR_ACTOR_REMINDER_NON_HOSTED',
    'ERR_ACTOR_TIMER_CREATE',
    'ERR_ACTOR_NO_APP_CHANNEL',
    'ERR_ACTOR_STACK_DEPTH',
    'ERR_ACTOR_NO_PLACEMENT',
    'ERR_ACTOR_RUNTIME_CLOSED',
    'ERR_ACTOR_NAMESPACE_REQUIRED',
    'ERR_ACTOR_NO_ADDRESS',
  ],
  workflow: [
    'ERR_GET_WORKFLOW',
    'ERR_START_WORKFLOW',
    'ERR_PAUSE_WORKFLOW',
    'ERR_RESUME_WORKFLOW',
    'ERR_TERMINATE_WORKFLOW',
    'ERR_PURGE_WORKFLOW',
    'ERR_RAISE_EVENT_WORKFLOW',
    'ERR_WORKFLOW_COMPONENT_MISSING',
    'ERR_WORKFLOW_COMPONENT_NOT_FOUND',
    'ERR_WORKFLOW_EVENT_NAME_MISSING',
    'ERR_WORKFLOW_NAME_MISSING',
    'ERR_INSTANCE_ID_INVALID',
    'ERR_INSTANCE_ID_NOT_FOUND',
    'ERR_INSTANCE_ID_PROVIDED_MISSING',
    'ERR_INSTANCE_ID_TOO_LONG',
  ],
  state: [
    'ERR_STATE_TRANSACTION',
    'ERR_STATE_SAVE',
    'ERR_STATE_GET',
    'ERR_STATE_DELETE',
    'ERR_STATE_BULK_DELETE',
    'ERR_STATE_BULK_GET',
    'ERR_NOT_SUPPORTED_STATE_OPERATION',
    'ERR_STATE_QUERY',
    'ERR_STATE_STORE_NOT_FOUND',
    'ERR_STATE_STORE_NOT_CONFIGURED',
    'ERR_STATE_STORE_NOT_SUPPORTED',
    'ERR_STATE_STORE_TOO_MANY_TRANSACTIONS',
  ],
  configuration: [
    'ERR_CONFIGURATION_GET',
    'ERR_CONFIGURATION_STORE_NOT_CONFIGURED',
    'ERR_CONFIGURATION_STORE_NOT_FOUND',
    'ERR_CONFIGURATION_SUBSCRIBE',
    'ERR_CONFIGURATION_UNSUBSCRIBE',
  ],
  crypto: ['ERR_CRYPTO', 'ERR_CRYPTO_KEY', 'ERR_CRYPTO_PROVIDER_NOT_FOUND', 'ERR_CRYPTO_PROVIDERS_NOT_CONFIGURED'],
  secret: ['ERR_SECRET_GET', 'ERR_SECRET_STORE_NOT_FOUND', 'ERR_SECRET_STORES_NOT_CONFIGURED', 'ERR_PERMISSION_DENIED'],
  pubsub: [
    'ERR_PUBSUB_EMPTY',
    'ERR_PUBSUB_NOT_FOUND',
    'ERR_PUBSUB_NOT_CONFIGURED',
    'ERR_TOPIC_NAME_EMPTY',
    'ERR_PUBSUB_FORBIDDEN',
    'ERR_PUBSUB_PUBLISH_MESSAGE',
    'ERR_PUBSUB_REQUEST_METADATA',
    'ERR_PUBSUB_CLOUD_EVENTS_SER',
    'ERR_PUBSUB_EVENTS_SER',
    'ERR_PUBLISH_OUTBOX',
  ],
  conversation: ['ERR_CONVERSATION_INVALID_PARMS', 'ERR_CONVERSATION_INVOKE', 'ERR_CONVERSATION_MISSING_INPUTS', 'ERR_CONVERSATION_NOT_FOUND'],
  'service-invocation': ['ERR_DIRECT_INVOKE'],
  binding: ['ERR_INVOKE_OUTPUT_BINDING'],
  lock: ['ERR_LOCK_STORE_NOT_CONFIGURED', 'ERR_LOCK_STORE_NOT_FOUND', 'ERR_TRY_LOCK', 'ERR_UNLOCK'],
  job: [
    'DAPR_SCHEDULER_SCHEDULE_JOB',
    'DAPR_SCHEDULER_JOB_NAME',
    'DAPR_SCHEDULER_JOB_NAME_EMPTY',
    'DAPR_SCHEDULER_GET_JOB',
    'DAPR_SCHEDULER_LIST_JOBS',
    'DAPR_SCHEDULER_DELETE_JOB',
    'DAPR_SCHEDULER_EMPTY',
    'DAPR_SCHEDULER_SCHEDULE_EMPTY',
  ],
  health: ['ERR_HEALTH_NOT_READY', 'ERR_HEALTH_APPID_NOT_MATCH', 'ERR_OUTBOUND_HEALTH_NOT_READY'],
  common: [
    'ERR_API_UNIMPLEMENTED',
    'ERR_APP_CHANNEL_NIL',
    'ERR_BAD_REQUEST',
    'ERR_BODY_READ',
    'ERR_INTERNAL',
    'ERR_MALFORMED_REQUEST',
    'ERR_MALFORMED_REQUEST_DATA',
    'ERR_MALFORMED_RESPONSE',
    'ERROR',
  ],
};

const BY_CODE = new Map<string, ErrorCategory>(
  (Object.entries(CATALOG) as [ErrorCategory, readonly string[]][]).flatMap(([category, codes]) => codes.map((code) => [code, category] as const)),
);

/**
 * The category of an API error, undefined for a code daprd does not catalogue. `ERR_MALFORMED_REQUEST`
 * is `common` except for an illegal state key, which daprd files under `state`.
 */
export function errorCategory(err: Pick<ApiError, 'code' | 'info'>): ErrorCategory | undefined {
  if (err.code === 'ERR_MALFORMED_REQUEST' && err.info?.reason === 'DAPR_STATE_ILLEGAL_KEY') return 'state';
  return BY_CODE.get(err.code);
}
