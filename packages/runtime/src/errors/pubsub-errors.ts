import { ApiError, GrpcCode } from './api-error.js';

const reason = (code: string) => `DAPR_PUBSUB_${code}`;

/** Pub/sub API errors (dapr `pkg/api/errors/pubsub.go`): codes, statuses and messages as Dapr sends them. */
export const pubsubErrors = {
  notFound: (name: string, appId: string) =>
    new ApiError('ERR_PUBSUB_NOT_FOUND', 404, GrpcCode.INVALID_ARGUMENT, `pubsub ${name} is not found`, {
      reason: reason('NOT_FOUND'),
      reasonMetadata: { appID: appId },
    }),
  notConfigured: (name: string, appId: string) =>
    new ApiError('ERR_PUBSUB_NOT_CONFIGURED', 400, GrpcCode.FAILED_PRECONDITION, `pubsub ${name} is not configured`, {
      reason: reason('NOT_CONFIGURED'),
      reasonMetadata: { appID: appId },
    }),
  nameEmpty: (appId: string) =>
    new ApiError('ERR_PUBSUB_EMPTY', 404, GrpcCode.INVALID_ARGUMENT, 'pubsub name is empty', {
      reason: reason('NAME_EMPTY'),
      reasonMetadata: { appID: appId },
    }),
  topicEmpty: (name: string, appId: string) =>
    new ApiError('ERR_TOPIC_NAME_EMPTY', 404, GrpcCode.INVALID_ARGUMENT, `topic is empty in pubsub ${name}`, {
      reason: reason('TOPIC_NAME_EMPTY'),
      reasonMetadata: { appID: appId },
    }),
  forbidden: (topic: string, appId: string) =>
    new ApiError('ERR_PUBSUB_FORBIDDEN', 403, GrpcCode.PERMISSION_DENIED, `topic ${topic} is not allowed for app id ${appId}`, {
      reason: reason('FORBIDDEN'),
      reasonMetadata: { topic, error: `topic ${topic} is not allowed for app id ${appId}` },
    }),
  metadata: (detail: string) =>
    new ApiError('ERR_PUBSUB_REQUEST_METADATA', 400, GrpcCode.INVALID_ARGUMENT, `failed deserializing metadata. Error: ${detail}`, {
      reason: reason('METADATA_DESERIALIZATION'),
    }),
  cloudEventCreation: () =>
    new ApiError('ERR_PUBSUB_CLOUD_EVENTS_SER', 500, GrpcCode.INVALID_ARGUMENT, 'cannot create cloudevent', {
      reason: reason('CLOUD_EVENT_CREATION'),
    }),
  unmarshalEvents: (name: string, topic: string, detail: string) =>
    new ApiError(
      'ERR_PUBSUB_EVENTS_SER',
      400,
      GrpcCode.INVALID_ARGUMENT,
      `error when unmarshaling the request for topic ${topic} pubsub ${name}: ${detail}`,
      { reason: reason('UNMARSHAL_EVENTS') },
    ),
  publish: (name: string, topic: string, detail: string) =>
    new ApiError(
      'ERR_PUBSUB_PUBLISH_MESSAGE',
      500,
      GrpcCode.INTERNAL,
      `error when publishing to topic ${topic} in pubsub ${name}: ${detail}`,
      { reason: reason('PUBLISH_MESSAGE'), reasonMetadata: { topic, error: detail } },
    ),
};
