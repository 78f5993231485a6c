/** Actor API errors (dapr `pkg/messages/predefined.go`, `pkg/messages/errorcodes/errorcodes.go`). */
import { ApiError, GrpcCode } from '../../errors/api-error.js';

/** daprd's text of a failed actor lookup: `failed to lookup actor: ` + `ErrActorNoAddress.Error()`. */
export const LOOKUP_NO_ADDRESS = 'failed to lookup actor: api error: code = FailedPrecondition desc = did not find address for actor';

export const actorErrors = {
  runtimeNotFound: () =>
    new ApiError(
      'ERR_ACTOR_RUNTIME_NOT_FOUND',
      500,
      GrpcCode.INTERNAL,
      'the state store is not configured to use the actor runtime. Have you set the - name: actorStateStore value: "true" in your state store component file?',
    ),
  noAppChannel: () => new ApiError('ERR_ACTOR_NO_APP_CHANNEL', 400, GrpcCode.UNAVAILABLE, 'app channel is not initialized'),
  instanceMissing: () => new ApiError('ERR_ACTOR_INSTANCE_MISSING', 400, GrpcCode.INTERNAL, 'actor instance is missing'),
  invoke: (detail: string) => new ApiError('ERR_ACTOR_INVOKE_METHOD', 500, GrpcCode.INTERNAL, `error invoke actor method: ${detail}`),
  stateGet: (detail: string) => new ApiError('ERR_ACTOR_STATE_GET', 500, GrpcCode.INTERNAL, `error getting actor state: ${detail}`),
  stateTransaction: (detail: string) =>
    new ApiError('ERR_ACTOR_STATE_TRANSACTION_SAVE', 500, GrpcCode.INTERNAL, `error saving actor transaction state: ${detail}`),
  reminderCreate: (detail: string) => new ApiError('ERR_ACTOR_REMINDER_CREATE', 500, GrpcCode.INTERNAL, `error creating actor reminder: ${detail}`),
  reminderGet: (detail: string) => new ApiError('ERR_ACTOR_REMINDER_GET', 500, GrpcCode.INTERNAL, `error getting actor reminder: ${detail}`),
  reminderDelete: (detail: string) => new ApiError('ERR_ACTOR_REMINDER_DELETE', 500, GrpcCode.INTERNAL, `error deleting actor reminder: ${detail}`),
  reminderNotFound: (name: string) => new ApiError('ERR_ACTOR_REMINDER_NOT_FOUND', 404, GrpcCode.NOT_FOUND, `actor reminder not found: ${name}`),
  reminderExists: (name: string) =>
    new ApiError('ERR_ACTOR_REMINDER_ALREADY_EXISTS', 409, GrpcCode.ALREADY_EXISTS, `actor reminder already exists: ${name}`),
  reminderNonHosted: () =>
    new ApiError('ERR_ACTOR_REMINDER_NON_HOSTED', 403, GrpcCode.PERMISSION_DENIED, 'operations on actor reminders are only possible on hosted actor types'),
  timerCreate: (detail: string) => new ApiError('ERR_ACTOR_TIMER_CREATE', 500, GrpcCode.INTERNAL, `error creating actor timer: ${detail}`),
  stackDepth: () => new ApiError('ERR_ACTOR_STACK_DEPTH', 500, GrpcCode.RESOURCE_EXHAUSTED, 'maximum stack depth exceeded'),
  runtimeClosed: () => new ApiError('ERR_ACTOR_RUNTIME_CLOSED', 503, GrpcCode.UNAVAILABLE, 'actor runtime is closed'),
  /**
   * No sidecar hosts the actor's type (after daprd's `DaprBuiltInActorNotFoundRetries`): daprd wraps
   * placement's `ErrActorNoAddress` in a plain error, so HTTP renders it as ERR_ACTOR_INVOKE_METHOD
   * around the wrapped error's text, while gRPC keeps the wrapped error's FailedPrecondition status.
   */
  lookupNoAddress: () =>
    new ApiError(
      'ERR_ACTOR_INVOKE_METHOD',
      500,
      GrpcCode.FAILED_PRECONDITION,
      `error invoke actor method: ${LOOKUP_NO_ADDRESS}`,
    ),
  noAddress: (key: string) => new ApiError('ERR_ACTOR_NO_ADDRESS', 404, GrpcCode.FAILED_PRECONDITION, `did not find address for actor '${key}'`),
  badRequest: (detail: string) => new ApiError('ERR_BAD_REQUEST', 400, GrpcCode.INVALID_ARGUMENT, `invalid request: ${detail}`),
  malformed: (detail: string) => new ApiError('ERR_MALFORMED_REQUEST', 400, GrpcCode.INVALID_ARGUMENT, `failed deserializing HTTP body: ${detail}`),
};

/** Dapr's `method.ValidateName`: a name that cannot escape its URL segment; undefined when valid. */
export function invalidName(name: string): string | undefined {
  if (/[#?\0/\\]/.test(name)) return `name contains forbidden character: ${JSON.stringify(name)}`;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return `name contains control character at position ${i}: ${JSON.stringify(name)}`;
  }
  if (name === '.' || name === '..') return `name is a path traversal sequence: ${JSON.stringify(name)}`;
  return undefined;
}

/** Dapr's `method.NormalizeMethod`: cleans `..` and `.` segments; throws on forbidden characters. */
export function normalizeMethod(method: string): string {
  if (/[#?\0]/.test(method)) throw new Error(`method contains forbidden character: ${JSON.stringify(method)}`);
  for (let i = 0; i < method.length; i++) {
    const c = method.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw new Error(`method contains control character at position ${i}: ${JSON.stringify(method)}`);
  }
  const rooted = method.startsWith('/');
  const parts: string[] = [];
  for (const part of method.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
      else if (!rooted) parts.push('..');
      continue;
    }
    parts.push(part);
  }
  let cleaned = (rooted ? '/' : '') + parts.join('/');
  if (cleaned === '') cleaned = '.';
  while (cleaned.startsWith('../')) cleaned = cleaned.slice(3);
  if (cleaned === '..' || cleaned === '.') cleaned = '';
  return cleaned;
}
