/** A typed client for `workflow.v1.WorkflowService`, used by the client script and the tests. */
import * as grpc from '@grpc/grpc-js';
import { loadWorkflowService } from './proto.js';
import type { ExecutionUpdate, WorkflowStatus } from './proto.js';

/** Client of the workflow service's gRPC API. */
export class WorkflowServiceClient {
  private readonly client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;

  constructor(address: string) {
    const Service = loadWorkflowService();
    this.client = new Service(address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  }

  /** Starts an execution and yields its updates until the workflow's final one. */
  execute(workflowId: string, requestId = ''): AsyncIterable<ExecutionUpdate> {
    return this.client['ExecuteWorkflow']!({ workflow_id: workflowId, request_id: requestId }) as grpc.ClientReadableStream<ExecutionUpdate>;
  }

  /** Yields the updates of an existing execution from its beginning. */
  watch(executionId: string): AsyncIterable<ExecutionUpdate> {
    return this.client['WatchExecution']!({ execution_id: executionId }) as grpc.ClientReadableStream<ExecutionUpdate>;
  }

  /** The status of an execution and its tasks. */
  status(executionId: string): Promise<WorkflowStatus> {
    return new Promise((resolve, reject) =>
      this.client['GetWorkflowStatus']!({ execution_id: executionId }, (err: grpc.ServiceError | null, res: WorkflowStatus) => (err ? reject(err) : resolve(res))),
    );
  }

  close(): void {
    this.client.close();
  }
}
