import { describe, expect, it } from 'vitest';
import { defaultConfiguration, parseConfiguration } from './configuration.js';
import { ENGINE_SETTINGS, EngineSettingError, resolveEngineSettings } from './engine-settings.js';

const withWorkflow = (workflow: string) =>
  parseConfiguration(
    '/cfg/config.yaml',
    `
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: c}
spec:
  workflow: ${workflow}
`,
  );

function settingError(run: () => unknown): EngineSettingError {
  try {
    run();
  } catch (err) {
    if (err instanceof EngineSettingError) return err;
    throw err;
  }
  throw new Error('expected an EngineSettingError');
}

describe('engine settings', () => {
  it('has defaults without any source', () => {
    expect(resolveEngineSettings({ env: {} })).toEqual({ pubsubMaxRetries: 5, pubsubRetryIntervalMs: 500, pubsubRetryMaxIntervalMs: 5000, pubsubDeliveryTimeoutMs: 60_000 });
  });

  it('keeps reading the existing WEFT_* environment names', () => {
    const s = resolveEngineSettings({
      env: {
        WEFT_PUBSUB_MAX_RETRIES: '0',
        WEFT_PUBSUB_RETRY_INTERVAL: '20ms',
        WEFT_PUBSUB_RETRY_MAX_INTERVAL: '1s',
        WEFT_PUBSUB_DELIVERY_TIMEOUT: '1m30s',
        WEFT_WORKFLOW_LEASE_MS: '1500',
        WEFT_WORKFLOW_MAX_CONCURRENT_ORCHESTRATIONS: '7',
        WEFT_WORKFLOW_MAX_CONCURRENT_ACTIVITIES: '9',
        WEFT_WORKFLOW_RETENTION: '7d',
        WEFT_WORKFLOW_REDELIVER_AFTER: '90s',
        WEFT_WORKFLOW_STUCK_AFTER: '1h30m',
        WEFT_DEBUG_POINTS: 'commit:crash',
      },
    });
    expect(s).toEqual({
      pubsubMaxRetries: 0,
      pubsubRetryIntervalMs: 20,
      pubsubRetryMaxIntervalMs: 1000,
      pubsubDeliveryTimeoutMs: 90_000,
      workflowLeaseMs: 1500,
      workflowMaxConcurrentOrchestrations: 7,
      workflowMaxConcurrentActivities: 9,
      workflowRetentionMs: 7 * 86_400_000,
      workflowRedeliverAfterMs: 90_000,
      workflowStuckAfterMs: 5_400_000,
      debugPoints: 'commit:crash',
    });
  });

  it('takes a flag over the environment, and the environment over the Configuration', () => {
    const configuration = withWorkflow('{maxConcurrentWorkflowInvocations: 3, maxConcurrentActivityInvocations: 4, stateRetentionPolicy: {anyTerminal: 24h}}');
    expect(resolveEngineSettings({ env: {}, configuration })).toMatchObject({ workflowMaxConcurrentOrchestrations: 3, workflowMaxConcurrentActivities: 4, workflowRetentionMs: 86_400_000 });
    const env = { WEFT_WORKFLOW_MAX_CONCURRENT_ORCHESTRATIONS: '5', WEFT_WORKFLOW_RETENTION: '2h' };
    expect(resolveEngineSettings({ env, configuration })).toMatchObject({ workflowMaxConcurrentOrchestrations: 5, workflowMaxConcurrentActivities: 4, workflowRetentionMs: 7_200_000 });
    expect(resolveEngineSettings({ env, configuration, flags: { workflowRetentionMs: '30m' } })).toMatchObject({ workflowRetentionMs: 1_800_000 });
  });

  it('refuses an invalid value naming the setting as its source spells it', () => {
    expect(settingError(() => resolveEngineSettings({ env: { WEFT_PUBSUB_MAX_RETRIES: 'many' } })).message).toBe(
      'invalid setting WEFT_PUBSUB_MAX_RETRIES: expected a whole number (0 or more), got "many"',
    );
    expect(settingError(() => resolveEngineSettings({ env: { WEFT_PUBSUB_RETRY_INTERVAL: 'soon' } })).setting).toBe('WEFT_PUBSUB_RETRY_INTERVAL');
    expect(settingError(() => resolveEngineSettings({ env: { WEFT_WORKFLOW_LEASE_MS: '-1' } })).setting).toBe('WEFT_WORKFLOW_LEASE_MS');
    expect(settingError(() => resolveEngineSettings({ env: {}, flags: { workflowStuckAfterMs: '5 minutes' } })).message).toMatch(/^invalid setting --workflow-stuck-after: expected a/);
    const configuration = withWorkflow('{stateRetentionPolicy: {anyTerminal: forever}}');
    expect(settingError(() => resolveEngineSettings({ env: {}, configuration })).setting).toBe('spec.workflow.stateRetentionPolicy.anyTerminal');
  });

  it('declares a flag and an environment variable for every setting', () => {
    for (const s of ENGINE_SETTINGS) {
      expect(s.env).toMatch(/^WEFT_[A-Z_]+$/);
      expect(s.flag).toMatch(/^[a-z][a-z-]+$/);
    }
    expect(resolveEngineSettings({ env: {}, configuration: defaultConfiguration() })).toEqual(resolveEngineSettings({ env: {} }));
  });
});
