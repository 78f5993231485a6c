/**
 * The methods of the gRPC services the sidecar serves, by name, with their streaming flags: enough
 * to register them before their `.proto` files are parsed (`lazyService` in `protos.ts`). Written
 * from the protos; `service-methods.test.ts` fails when they and this list disagree.
 */

/** A service's methods in proto order, and `[requestStream, responseStream]` of the streaming ones. */
export interface ServiceMethods {
  methods: readonly string[];
  streams: Readonly<Record<string, readonly [requestStream: boolean, responseStream: boolean]>>;
}

/** The methods of `dapr.proto.runtime.v1.Dapr`, in proto order. */
export const DAPR_METHODS: ServiceMethods = {
  methods: [
    'InvokeService', 'GetState', 'GetBulkState', 'SaveState',
    'QueryStateAlpha1', 'DeleteState', 'DeleteBulkState', 'ExecuteStateTransaction',
    'PublishEvent', 'BulkPublishEventAlpha1', 'BulkPublishEvent', 'SubscribeTopicEventsAlpha1',
    'InvokeBinding', 'GetSecret', 'GetBulkSecret', 'RegisterActorTimer',
    'UnregisterActorTimer', 'RegisterActorReminder', 'UnregisterActorReminder', 'UnregisterActorRemindersByType',
    'ListActorReminders', 'GetActorState', 'GetActorReminder', 'ExecuteActorStateTransaction',
    'InvokeActor', 'GetConfigurationAlpha1', 'GetConfiguration', 'SubscribeConfigurationAlpha1',
    'SubscribeConfiguration', 'UnsubscribeConfigurationAlpha1', 'UnsubscribeConfiguration', 'TryLockAlpha1',
    'UnlockAlpha1', 'EncryptAlpha1', 'DecryptAlpha1', 'GetMetadata',
    'SetMetadata', 'SubtleGetKeyAlpha1', 'SubtleEncryptAlpha1', 'SubtleDecryptAlpha1',
    'SubtleWrapKeyAlpha1', 'SubtleUnwrapKeyAlpha1', 'SubtleSignAlpha1', 'SubtleVerifyAlpha1',
    'StartWorkflowAlpha1', 'GetWorkflowAlpha1', 'PurgeWorkflowAlpha1', 'TerminateWorkflowAlpha1',
    'PauseWorkflowAlpha1', 'ResumeWorkflowAlpha1', 'RaiseEventWorkflowAlpha1', 'StartWorkflowBeta1',
    'GetWorkflowBeta1', 'PurgeWorkflowBeta1', 'TerminateWorkflowBeta1', 'PauseWorkflowBeta1',
    'ResumeWorkflowBeta1', 'RaiseEventWorkflowBeta1', 'Shutdown', 'ScheduleJobAlpha1',
    'GetJobAlpha1', 'DeleteJobAlpha1', 'DeleteJobsByPrefixAlpha1', 'ListJobsAlpha1',
    'ConverseAlpha1', 'ConverseAlpha2',
  ],
  streams: {
    SubscribeTopicEventsAlpha1: [true, true],
    SubscribeConfigurationAlpha1: [false, true],
    SubscribeConfiguration: [false, true],
    EncryptAlpha1: [true, true],
    DecryptAlpha1: [true, true],
  },
};

/** The methods of `TaskHubSidecarService` as {@link taskHubService} serves it (with the newer RPCs). */
export const TASK_HUB_METHODS: ServiceMethods = {
  methods: [
    'Hello', 'StartInstance', 'GetInstance', 'RewindInstance',
    'WaitForInstanceStart', 'WaitForInstanceCompletion', 'RaiseEvent', 'TerminateInstance',
    'SuspendInstance', 'ResumeInstance', 'QueryInstances', 'PurgeInstances',
    'GetWorkItems', 'CompleteActivityTask', 'CompleteOrchestratorTask', 'CompleteEntityTask',
    'CreateTaskHub', 'DeleteTaskHub', 'SignalEntity', 'GetEntity',
    'QueryEntities', 'CleanEntityStorage', 'RerunWorkflowFromEvent',
  ],
  streams: {
    GetWorkItems: [false, true],
  },
};
