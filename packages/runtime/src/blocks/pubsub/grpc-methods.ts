/** The publish RPCs of the Dapr gRPC service over the {@link PubSubPublisher}. */
import type * as grpc from '@grpc/grpc-js';
import type { DaprGrpcMethods } from '../../api/grpc/dapr-service.js';
import { traceOf } from '../../api/grpc/dapr-service.js';
import type { PubSubPublisher } from './publish.js';

type StringMap = Record<string, string>;

interface ProtoBulkEntry {
  entry_id: string;
  event: Buffer;
  content_type: string;
  metadata?: StringMap;
}

/** `PublishEvent` and `BulkPublishEventAlpha1` (and the stable `BulkPublishEvent`) over the publisher. */
export function pubsubMethods(publisher: PubSubPublisher): DaprGrpcMethods {
  const bulk = async (req: { pubsub_name: string; topic: string; entries: ProtoBulkEntry[]; metadata?: StringMap }, call?: grpc.ServerUnaryCall<unknown, unknown>) => {
    const failed = await publisher.bulkPublish(
      req.pubsub_name,
      req.topic,
      req.entries.map((e) => ({ entryId: e.entry_id, data: e.event ?? Buffer.alloc(0), contentType: e.content_type || 'text/plain', metadata: e.metadata ?? {} })),
      req.metadata ?? {},
      traceOf(call),
    );
    return { failedEntries: failed.map((f) => ({ entry_id: f.entryId, error: f.error })) };
  };
  return {
    PublishEvent: async (req: { pubsub_name: string; topic: string; data: Buffer; data_content_type: string; metadata?: StringMap }, call?: grpc.ServerUnaryCall<unknown, unknown>) => {
      await publisher.publish({
        trace: traceOf(call),
        pubsubName: req.pubsub_name,
        topic: req.topic,
        data: req.data ?? Buffer.alloc(0),
        metadata: req.metadata ?? {},
        ...(req.data_content_type ? { contentType: req.data_content_type } : {}),
      });
      return {};
    },
    BulkPublishEventAlpha1: bulk,
    BulkPublishEvent: bulk,
  };
}
