/**
 * Dapr's rich gRPC errors: daprd sends `grpc-status-details-bin`, a serialized `google.rpc.Status`
 * whose `details` hold a `google.rpc.ErrorInfo` (domain `dapr.io`, reason, metadata). SDKs read the
 * reason from there (connect-es exposes it as `ConnectError.details`), so errors that carry a reason
 * in the catalog send it the same way.
 *
 * Not here: `ResourceInfo` and `BadRequest` details, which the catalog does not model yet.
 */
import type * as ProtoLoader from '@grpc/proto-loader';
import type { MessageTypeDefinition } from '@grpc/proto-loader';
import type { ApiError } from '../../errors/index.js';
import { lazyModule } from '../../util/lazy-module.js';

/** Metadata key that carries the serialized `google.rpc.Status`. */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

/** Domain of every Dapr ErrorInfo. */
export const ERROR_INFO_DOMAIN = 'dapr.io';

/** `type_url` of an ErrorInfo packed in `google.protobuf.Any`. */
export const ERROR_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.ErrorInfo';

// Neither @dapr/dapr nor @grpc/* ship google/rpc/{status,error_details}.proto, so the three small
// messages are declared here with the field numbers of those files.
const RPC_PROTOS = {
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
          },
        },
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: 'int32', id: 1 },
                message: { type: 'string', id: 2 },
                details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 },
              },
            },
            ErrorInfo: {
              fields: {
                reason: { type: 'string', id: 1 },
                domain: { type: 'string', id: 2 },
                metadata: { keyType: 'string', type: 'string', id: 3 },
              },
            },
          },
        },
      },
    },
  },
};

interface AnyMessage {
  type_url: string;
  value: Uint8Array;
}

interface StatusMessage {
  code: number;
  message: string;
  details: AnyMessage[];
}

interface ErrorInfoMessage {
  reason: string;
  domain: string;
  metadata: Record<string, string>;
}

interface RpcMessages {
  status: MessageTypeDefinition<StatusMessage, StatusMessage>;
  errorInfo: MessageTypeDefinition<ErrorInfoMessage, ErrorInfoMessage>;
}

let messages: RpcMessages | undefined;

/** Loaded with the first rich error, not by every sidecar. */
const protoLoader = lazyModule<typeof ProtoLoader>('@grpc/proto-loader');

function rpcMessages(): RpcMessages {
  if (!messages) {
    const definition = protoLoader().fromJSON(RPC_PROTOS, { keepCase: true, longs: Number, defaults: true });
    messages = {
      status: definition['google.rpc.Status'] as RpcMessages['status'],
      errorInfo: definition['google.rpc.ErrorInfo'] as RpcMessages['errorInfo'],
    };
  }
  return messages;
}

/**
 * The serialized `google.rpc.Status` for an error with an ErrorInfo reason, or undefined for a
 * legacy error (daprd sends plain status for those too).
 */
export function encodeRichStatus(error: ApiError): Buffer | undefined {
  if (!error.info) return undefined;
  const { status, errorInfo } = rpcMessages();
  const info = errorInfo.serialize({ reason: error.info.reason, domain: ERROR_INFO_DOMAIN, metadata: error.info.metadata ?? {} });
  return status.serialize({
    code: error.grpcCode,
    message: error.message,
    details: [{ type_url: ERROR_INFO_TYPE_URL, value: info }],
  });
}
