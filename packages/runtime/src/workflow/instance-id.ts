/**
 * Dapr's rule for a workflow instance id chosen by the caller at start, shared by the HTTP workflow API
 * and gRPC `StartInstance` so neither transport accepts an id the other refuses.
 */
import { workflowErrors } from '../errors/index.js';

/** Longest instance id Dapr accepts at start. */
export const MAX_INSTANCE_ID = 64;
const VALID_ID = /^[A-Za-z0-9_-]+$/;

/**
 * Throws `ERR_INSTANCE_ID_TOO_LONG` (over 64 characters) or `ERR_INSTANCE_ID_INVALID` (anything but
 * letters, digits, `_` and `-`), both 400 / INVALID_ARGUMENT, as daprd does.
 */
export function validateInstanceId(id: string): void {
  if (id.length > MAX_INSTANCE_ID) throw workflowErrors.instanceIdTooLong(MAX_INSTANCE_ID);
  if (!VALID_ID.test(id)) throw workflowErrors.instanceIdInvalid(id);
}
