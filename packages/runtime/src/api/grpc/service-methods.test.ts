import { describe, expect, it } from 'vitest';
import type * as grpc from '@grpc/grpc-js';
import { daprService, lazyDaprService, lazyTaskHubService, taskHubService } from './protos.js';

/** What grpc-js reads from a definition when it registers a service. */
function shapeOf(definition: grpc.ServiceDefinition) {
  return Object.fromEntries(
    Object.entries(definition).map(([name, m]) => [name, { path: m.path, requestStream: m.requestStream, responseStream: m.responseStream, originalName: m.originalName }]),
  );
}

describe('service method lists', () => {
  it('registers the Dapr service with exactly the methods, paths and streaming flags of its protos', () => {
    expect(shapeOf(lazyDaprService())).toEqual(shapeOf(daprService('dapr.proto.runtime.v1.Dapr')));
  });

  it('registers TaskHubSidecarService with exactly the methods, paths and streaming flags it is served with', () => {
    expect(shapeOf(lazyTaskHubService())).toEqual(shapeOf(taskHubService()));
  });

  it('encodes and decodes through the lazy definition as through the loaded one', () => {
    const lazy = lazyDaprService()['GetState']!;
    const real = daprService('dapr.proto.runtime.v1.Dapr')['GetState']!;
    const request = { store_name: 'statestore', key: 'k1', consistency: 'CONSISTENCY_STRONG', metadata: { a: 'b' } };
    const bytes = lazy.requestSerialize(request);
    expect(bytes).toEqual(real.requestSerialize(request));
    expect(lazy.requestDeserialize(bytes)).toEqual(real.requestDeserialize(bytes));
  });
});
