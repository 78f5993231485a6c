/**
 * Loads Dapr's `.proto` files from the official `@dapr/dapr` npm package rather than retyping them,
 * so field names and numbers are exactly Dapr's.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type * as ProtoLoader from '@grpc/proto-loader';
import type * as Protobuf from 'protobufjs';
import { lazyModule } from '../../util/lazy-module.js';
import { DAPR_METHODS, TASK_HUB_METHODS } from './service-methods.js';
import type { ServiceMethods } from './service-methods.js';

const require = createRequire(import.meta.url);

// The parsers load with the first service definition that needs its messages (see lazyService).
const protoLoader = lazyModule<typeof ProtoLoader>('@grpc/proto-loader');
const protobuf = lazyModule<typeof Protobuf>('protobufjs');

/** Directory holding `dapr/proto/...` inside the installed `@dapr/dapr` package. */
export function daprProtoRoot(): string {
  return path.join(path.dirname(require.resolve('@dapr/dapr/package.json')), 'proto');
}

/** proto-loader options shared by every service Weft serves: field names as in the .proto. */
export const LOADER_OPTIONS: ProtoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

let daprPackage: grpc.GrpcObject | undefined;

/** The loaded `dapr.proto.runtime.v1` package (cached; loading takes tens of milliseconds). */
export function loadDaprRuntimePackage(): grpc.GrpcObject {
  if (!daprPackage) {
    const root = daprProtoRoot();
    const definition = protoLoader().loadSync(
      ['dapr/proto/runtime/v1/dapr.proto', 'dapr/proto/runtime/v1/appcallback.proto'],
      { ...LOADER_OPTIONS, includeDirs: [root] },
    );
    daprPackage = grpc.loadPackageDefinition(definition);
  }
  return daprPackage;
}

/** A service definition by its full name, e.g. `dapr.proto.runtime.v1.Dapr`. */
export function daprService(fullName: string): grpc.ServiceDefinition {
  let node: unknown = loadDaprRuntimePackage();
  for (const part of fullName.split('.')) node = (node as Record<string, unknown>)[part];
  const ctor = node as { service?: grpc.ServiceDefinition } | undefined;
  if (!ctor?.service) throw new Error(`gRPC service ${fullName} not found in the Dapr protos`);
  return ctor.service;
}

let taskHub: grpc.ServiceDefinition | undefined;
let taskHubRoot: Protobuf.Root | undefined;

/**
 * Trace fields newer durabletask protos have and the one shipped with `@dapr/durabletask-js` 1.0.0
 * lacks: the activity execution's span on `ActivityRequest` (which durabletask-go sends so worker
 * spans join the trace) and the caller's span on `CreateInstanceRequest`. Workers built on the older
 * proto skip unknown fields, so adding them breaks no SDK.
 */
const TRACE_FIELDS: [message: string, field: string, id: number, type: string][] = [
  ['ActivityRequest', 'parentTraceContext', 6, 'TraceContext'],
  ['CreateInstanceRequest', 'parentTraceContext', 9, 'TraceContext'],
  // The work item's completion token, echoed on completion by workers on newer protos (the JS SDKs
  // echo nothing); numbers as in dapr/durabletask-protobuf.
  ['WorkItem', 'completionToken', 10, 'string'],
  ['OrchestratorResponse', 'completionToken', 4, 'string'],
  ['ActivityResponse', 'completionToken', 5, 'string'],
];

/**
 * Messages and RPCs of dapr/durabletask-protobuf (`protos/orchestrator_service.proto`) that the proto
 * shipped with `@dapr/durabletask-js` predates, copied with their names and field numbers.
 */
const NEWER_MESSAGES = `
syntax = "proto3";
message RerunWorkflowFromEventRequest {
  string sourceInstanceID = 1;
  uint32 eventID = 2;
  optional string newInstanceID = 3;
  google.protobuf.StringValue input = 4;
  bool overwriteInput = 5;
  optional string newChildWorkflowInstanceID = 6;
}
message RerunWorkflowFromEventResponse {
  string newInstanceID = 1;
}
`;
const NEWER_RPCS: [name: string, request: string, response: string][] = [
  ['RerunWorkflowFromEvent', 'RerunWorkflowFromEventRequest', 'RerunWorkflowFromEventResponse'],
];

/**
 * The durabletask `TaskHubSidecarService`, from the `.proto` shipped in `@dapr/durabletask-js` (the
 * same schema `@dapr/dapr` vendors) plus {@link TRACE_FIELDS} and {@link NEWER_RPCS}. The proto has no package: methods are
 * `/TaskHubSidecarService/<Rpc>`.
 */
export function taskHubService(): grpc.ServiceDefinition {
  if (!taskHub) {
    const dir = path.join(path.dirname(require.resolve('@dapr/durabletask-js/package.json')), 'proto');
    const { Root, Field, Method, parse } = protobuf();
    const root = new Root();
    root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(dir, target));
    root.loadSync('orchestrator_service.proto', { keepCase: true });
    for (const [message, field, id, fieldType] of TRACE_FIELDS) {
      const type = root.lookupType(message);
      if (!type.fields[field]) type.add(new Field(field, id, fieldType));
    }
    const service = root.lookupService('TaskHubSidecarService');
    if (!root.lookup('RerunWorkflowFromEventRequest')) parse(NEWER_MESSAGES, root, { keepCase: true });
    for (const [name, request, response] of NEWER_RPCS) {
      if (!service.methods[name]) service.add(new Method(name, 'rpc', request, response));
    }
    taskHubRoot = root;
    const definition = protoLoader().fromJSON(root.toJSON(), LOADER_OPTIONS);
    const ctor = grpc.loadPackageDefinition(definition)['TaskHubSidecarService'] as { service?: grpc.ServiceDefinition } | undefined;
    if (!ctor?.service) throw new Error('TaskHubSidecarService not found in orchestrator_service.proto');
    taskHub = ctor.service;
  }
  return taskHub;
}

/**
 * A service definition that grpc-js can register before any `.proto` is parsed: paths and streaming
 * flags come from {@link ServiceMethods}, and the first (de)serialisation of any method loads the
 * real definition with `load`. Parsing Dapr's protos and building their descriptors costs about
 * 100 ms of CPU and a few MB of heap; a sidecar whose app never speaks gRPC never pays it.
 */
export function lazyService(prefix: string, shape: ServiceMethods, load: () => grpc.ServiceDefinition): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const name of shape.methods) {
    const real = (): grpc.MethodDefinition<unknown, unknown> => {
      const method = load()[name];
      if (!method) throw new Error(`gRPC method ${prefix}/${name} not found in the loaded protos`);
      return method;
    };
    const [requestStream, responseStream] = shape.streams[name] ?? [false, false];
    definition[name] = {
      path: `${prefix}/${name}`,
      requestStream,
      responseStream,
      originalName: name.charAt(0).toLowerCase() + name.slice(1),
      requestSerialize: (value: unknown) => real().requestSerialize(value),
      requestDeserialize: (bytes: Buffer) => real().requestDeserialize(bytes),
      responseSerialize: (value: unknown) => real().responseSerialize(value),
      responseDeserialize: (bytes: Buffer) => real().responseDeserialize(bytes),
    };
  }
  return definition;
}

/** `dapr.proto.runtime.v1.Dapr`, its protos loaded by the first call (see {@link lazyService}). */
export function lazyDaprService(): grpc.ServiceDefinition {
  return lazyService('/dapr.proto.runtime.v1.Dapr', DAPR_METHODS, () => daprService('dapr.proto.runtime.v1.Dapr'));
}

/** {@link taskHubService}, its protos loaded by the first call (see {@link lazyService}). */
export function lazyTaskHubService(): grpc.ServiceDefinition {
  return lazyService('/TaskHubSidecarService', TASK_HUB_METHODS, taskHubService);
}

/**
 * A message type of the TaskHub schema (the one {@link taskHubService} serialises with), for code
 * that encodes parts of a message itself (cached history events).
 */
export function taskHubMessageType(name: string): Protobuf.Type {
  taskHubService();
  return taskHubRoot!.lookupType(name);
}
