import { describe, expect, it } from 'vitest';
import { ResourceError } from '../resources/loader.js';
import { applyConfigurationEnv, defaultConfiguration, ignoredConfigurationSections, parseConfiguration } from './configuration.js';
import { apiAccessCheck, grpcMethodEndpoint } from './api-allowlist.js';
import { secretScopesPolicy } from './secret-scopes.js';

const FULL = `
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: daprConfig}
spec:
  tracing:
    samplingRate: "0.5"
    zipkin: {endpointAddress: "http://localhost:9411/api/v2/spans"}
    otel: {endpointAddress: "localhost:4317", isSecure: false, protocol: grpc, headers: "a=1,b=2"}
  metrics:
    enabled: true
    latencyDistributionBuckets: [50, 5, 10]
    http: {increasedCardinality: false, pathMatching: ["/v1.0/state/{store}/{key}"]}
  accessControl: {defaultAction: deny, trustDomain: public, policies: [{appId: app1, defaultAction: allow}]}
  secrets:
    scopes: [{storeName: vault, defaultAccess: deny, allowedSecrets: [], deniedSecrets: []}]
  api:
    allowed: [{name: state, version: v1.0}, {name: state, version: v1, protocol: grpc}]
  features: [{name: HotReload, enabled: true}]
  logging: {apiLogging: {enabled: true, obfuscateURLs: true}}
`;

function parseError(text: string): ResourceError {
  try {
    parseConfiguration('/cfg/config.yaml', text);
  } catch (err) {
    if (err instanceof ResourceError) return err;
    throw err;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('Configuration loading', () => {
  it('resolves every supported section over the defaults', () => {
    const c = parseConfiguration('/cfg/config.yaml', FULL);
    expect(c.name).toBe('daprConfig');
    expect(c.tracing).toEqual({
      samplingRate: 0.5,
      stdout: false,
      zipkinEndpoint: 'http://localhost:9411/api/v2/spans',
      otel: { endpointAddress: 'localhost:4317', isSecure: false, protocol: 'grpc', headers: { a: '1', b: '2' }, timeoutMs: 10_000 },
    });
    expect(c.metrics.latencyBucketsMs).toEqual([5, 10, 50]);
    expect(c.metrics.http).toEqual({ increasedCardinality: false, pathMatching: ['/v1.0/state/{store}/{key}'], excludeVerbs: false });
    expect(c.accessControl?.defaultAction).toBe('deny');
    expect(c.api.allowed).toEqual([
      { name: 'state', version: 'v1.0', protocol: 'http' },
      { name: 'state', version: 'v1', protocol: 'grpc' },
    ]);
    expect(c.features).toEqual({ HotReload: true });
    expect(c.apiLogging).toEqual({ enabled: true, obfuscateURLs: true, omitHealthChecks: false });
  });

  it('rejects an unknown key by name, with the file', () => {
    const err = parseError('apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: c}\nspec:\n  metrics: {enabeld: true}\n');
    expect(err.message).toBe('/cfg/config.yaml: spec.metrics.enabeld: Unrecognized key: "enabeld"');
  });

  it('rejects a sampling rate that is not a number', () => {
    const err = parseError('apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: c}\nspec:\n  tracing: {samplingRate: "all"}\n');
    expect(err.field).toBe('spec.tracing.samplingRate');
  });

  it('lets the OTEL_EXPORTER_OTLP_* environment override the file', () => {
    const c = applyConfigurationEnv(parseConfiguration('/c.yaml', FULL), {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    });
    expect(c.tracing.otel).toMatchObject({ endpointAddress: 'http://collector:4318', protocol: 'http', isSecure: false });
  });

  it('defaults to metrics on, tracing off and every API enabled', () => {
    const c = defaultConfiguration();
    expect(c.metrics.enabled).toBe(true);
    expect(c.tracing.samplingRate).toBe(0);
    expect(apiAccessCheck(c.api.allowed, c.api.denied)({ group: 'state', version: 'v1.0', protocol: 'http' })).toBe(true);
  });
});

describe('API allow and deny lists', () => {
  const http = (group: string, version = 'v1.0') => ({ group, version, protocol: 'http' as const });
  it('enables only the listed HTTP APIs and leaves gRPC alone when only HTTP rules exist', () => {
    const check = apiAccessCheck([{ name: 'state', version: 'v1.0', protocol: 'http' }], []);
    expect(check(http('state'))).toBe(true);
    expect(check(http('secrets'))).toBe(false);
    expect(check(grpcMethodEndpoint('GetSecret'))).toBe(true);
  });

  it('lets a denied rule win over an allowed one', () => {
    const rule = { name: 'state', version: 'v1.0', protocol: 'http' as const };
    expect(apiAccessCheck([rule], [rule])(http('state'))).toBe(false);
  });

  it('maps gRPC methods to Dapr API groups and versions', () => {
    expect(grpcMethodEndpoint('QueryStateAlpha1')).toEqual({ group: 'state', version: 'v1alpha1', protocol: 'grpc' });
    expect(grpcMethodEndpoint('GetBulkSecret')).toEqual({ group: 'secrets', version: 'v1', protocol: 'grpc' });
    expect(grpcMethodEndpoint('StartWorkflowBeta1')).toEqual({ group: 'workflows', version: 'v1beta1', protocol: 'grpc' });
    expect(grpcMethodEndpoint('TryLockAlpha1').group).toBe('lock');
  });
});

describe('secret scopes', () => {
  it('follows Dapr: allowedSecrets is the whole truth, then deniedSecrets, then defaultAccess', () => {
    const allowed = secretScopesPolicy([
      { storeName: 'a', defaultAccess: 'deny', allowedSecrets: ['s1'] },
      { storeName: 'b', deniedSecrets: ['s2'] },
      { storeName: 'c', defaultAccess: 'deny' },
    ]);
    expect([allowed('a', 's1'), allowed('a', 's2')]).toEqual([true, false]);
    expect([allowed('b', 's1'), allowed('b', 's2')]).toEqual([true, false]);
    expect(allowed('c', 'anything')).toBe(false);
    expect(allowed('unscoped', 'anything')).toBe(true);
  });
});

describe('sections Weft does not act on', () => {
  it('are named so start-up can warn about them', () => {
    const c = parseConfiguration(
      '/c.yaml',
      'apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: c}\nspec:\n  httpPipeline: {handlers: [{name: o, type: middleware.http.oauth2}]}\n  components: {deny: [bindings.smtp]}\n',
    );
    expect(ignoredConfigurationSections(c)).toEqual([
      'Configuration c: httpPipeline/appHttpPipeline: HTTP middleware components are not supported yet',
      'Configuration c: components.deny: not enforced yet',
    ]);
    expect(ignoredConfigurationSections(parseConfiguration('/c.yaml', FULL))).toEqual([]);
  });
});

describe('metrics rules and error codes', () => {
  const config = (metrics: string) => `apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: m}\nspec:\n  ${metrics}\n`;

  it('keeps the rules and recordErrorCodes, under either spelling of the section', () => {
    const c = parseConfiguration(
      '/c.yaml',
      config('metric:\n    recordErrorCodes: true\n    rules:\n    - name: dapr_http_server_request_count\n      labels:\n      - {name: path, regex: {"/orders/{id}": "^/orders/.+"}}'),
    );
    expect(c.metrics.recordErrorCodes).toBe(true);
    expect(c.metrics.rules).toEqual([{ name: 'dapr_http_server_request_count', labels: [{ name: 'path', regex: { '/orders/{id}': '^/orders/.+' } }] }]);
    expect(defaultConfiguration().metrics).toMatchObject({ recordErrorCodes: false, rules: [] });
    expect(ignoredConfigurationSections(c)).toEqual([]);
  });

  it('rejects a rule expression that does not compile, naming the field', () => {
    const err = parseError(config('metrics:\n    rules:\n    - name: m\n      labels:\n      - {name: path, regex: {x: "(unclosed"}}'));
    expect(err.field).toBe('spec.metrics.rules.0.labels.0.regex.x');
    expect(err.message).toContain('invalid regular expression "(unclosed"');
  });
});

describe('Configuration durations', () => {
  const withTimeout = (timeout: string) => `
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: c}
spec:
  tracing:
    otel: {endpointAddress: "localhost:4317", timeout: ${timeout}}
`;

  it('reads the OTLP timeout as milliseconds or as a duration with a unit', () => {
    expect(parseConfiguration('/cfg/c.yaml', withTimeout('10000')).tracing.otel?.timeoutMs).toBe(10_000);
    expect(parseConfiguration('/cfg/c.yaml', withTimeout('"2500"')).tracing.otel?.timeoutMs).toBe(2500);
    expect(parseConfiguration('/cfg/c.yaml', withTimeout('"1m30s"')).tracing.otel?.timeoutMs).toBe(90_000);
  });

  it('refuses a malformed OTLP timeout naming the file and the field', () => {
    const err = parseError(withTimeout('"soon"'));
    expect(err.field).toBe('spec.tracing.otel.timeout');
    expect(err.message).toContain('/cfg/config.yaml: spec.tracing.otel.timeout: expected a duration');
  });
});
