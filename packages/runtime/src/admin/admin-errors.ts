/** Errors of the Weft admin API (`ERR_ADMIN_*`). */
import { ApiError, GrpcCode } from '../errors/api-error.js';

/** The admin API's error constructors. */
export const adminErrors = {
  keyListingUnsupported: (store: string) =>
    new ApiError('ERR_ADMIN_KEY_LISTING_UNSUPPORTED', 501, GrpcCode.UNIMPLEMENTED, `state store ${store} cannot list its keys`),
  deadLetterNotFound: (id: string) =>
    new ApiError('ERR_ADMIN_DEAD_LETTER_NOT_FOUND', 404, GrpcCode.NOT_FOUND, `no dead-lettered message with id ${id} is kept by this sidecar`),
  replay: (id: string, detail: string) =>
    new ApiError('ERR_ADMIN_REPLAY', 500, GrpcCode.INTERNAL, `failed to replay dead-lettered message ${id}: ${detail}`),
  resourcesUnavailable: () =>
    new ApiError('ERR_ADMIN_RESOURCES_UNAVAILABLE', 501, GrpcCode.UNIMPLEMENTED, 'this sidecar does not report its loaded resources'),
  workflowsUnavailable: () =>
    new ApiError('ERR_ADMIN_WORKFLOWS_UNAVAILABLE', 501, GrpcCode.UNIMPLEMENTED, 'this sidecar has no workflow engine'),
};
