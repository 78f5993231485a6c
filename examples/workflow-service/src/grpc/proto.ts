/** Loads `proto/workflow.proto` at run time (no generated code to keep in step) for server and client. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** Path of the service definition, for other-language clients and tools. */
export const PROTO_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../proto/workflow.proto');

/** The status enum as strings (proto-loader is configured with `enums: String`). */
export type StatusName = 'STATUS_UNSPECIFIED' | 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED';

/** One streamed update, as the generated-free client and server see it. */
export interface ExecutionUpdate {
  execution_id: string;
  workflow_id: string;
  task_id: string;
  task_name: string;
  status: StatusName;
  message: string;
  result_json: string;
  timestamp: string;
  /** int64 as a string (proto-loader `longs: String`). */
  sequence_number: string;
}

/** The answer of GetWorkflowStatus. */
export interface WorkflowStatus {
  execution_id: string;
  workflow_id: string;
  workflow_name: string;
  status: StatusName;
  error: string;
  created_at: string;
  started_at: string;
  finished_at: string;
  tasks: {
    task_id: string;
    name: string;
    sequence: number;
    execution_type: string;
    kind: string;
    status: StatusName;
    result_json: string;
    error: string;
    started_at: string;
    finished_at: string;
    attempts: number;
  }[];
}

/** The loaded `workflow.v1.WorkflowService` constructor and its service definition. */
export function loadWorkflowService(): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync(PROTO_PATH, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { workflow: { v1: { WorkflowService: grpc.ServiceClientConstructor } } };
  return pkg.workflow.v1.WorkflowService;
}
