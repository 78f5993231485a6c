/**
 * Loads the sidecar's `Configuration` in layers, as STYLE #8 asks: defaults, then the `--config`
 * file, then the environment (read from an injected map, never `process.env` directly). A bad file
 * stops start-up with the file and the field. The result is a plain, fully-defaulted object the rest
 * of the runtime reads; nothing downstream looks at the raw YAML.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { ResourceError, parseYamlDocuments } from '../resources/loader.js';
import { durationField } from '../resources/duration-field.js';
import { MetricLabelRules, MetricRuleError } from '../observability/metric-rules.js';
import type { MetricRuleSpec } from '../observability/metric-rules.js';
import { schemas } from './configuration-schema.js';
import type { AccessControlSpec, ApiAccessRule, ConfigurationSpec, SecretScope } from './configuration-schema.js';

/** Dapr's default latency buckets, in milliseconds (`pkg/diagnostics/utils`). */
export const DEFAULT_LATENCY_BUCKETS_MS: readonly number[] = [
  1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 30, 40, 50, 65, 80, 100, 130, 160, 200, 250, 300, 400, 500, 650, 800, 1000, 2000,
  5000, 10000, 20000, 50000, 100000,
];

/** An `api.allowed`/`api.denied` rule with its protocol made explicit. */
export interface ApiRule {
  name: string;
  version: string;
  protocol: 'http' | 'grpc';
}

/** OpenTelemetry exporter settings. */
export interface OtelSettings {
  endpointAddress: string;
  isSecure: boolean;
  protocol: 'grpc' | 'http';
  headers: Record<string, string>;
  /** @default 10000 */
  timeoutMs: number;
}

/** `spec.nameResolution`: which resolver service invocation uses (local registry or Kubernetes DNS). */
export interface NameResolutionSpec {
  component?: string;
  configuration?: Record<string, unknown>;
}

/** Reads `spec.nameResolution` of a loaded configuration. */
export function nameResolutionSpec(config: WeftConfiguration): NameResolutionSpec {
  const raw = config.spec.nameResolution;
  if (!raw) return {};
  const configuration = raw.configuration;
  const isMap = typeof configuration === 'object' && configuration !== null && !Array.isArray(configuration);
  return {
    ...(raw.component ? { component: raw.component } : {}),
    ...(isMap ? { configuration: configuration as Record<string, unknown> } : {}),
  };
}

/** The resolved configuration every part of the runtime reads. */
export interface WeftConfiguration {
  /** `metadata.name`, or `default` without `--config`. */
  name: string;
  /** The file it came from, if any. */
  file?: string;
  tracing: {
    /** 0 disables tracing, 1 samples every request. @default 0 */
    samplingRate: number;
    stdout: boolean;
    zipkinEndpoint?: string;
    otel?: OtelSettings;
  };
  metrics: {
    /** @default true */
    enabled: boolean;
    recordErrorCodes: boolean;
    /** Histogram buckets of every latency metric, in ms. */
    latencyBucketsMs: number[];
    /** Label value rewrites per metric (`rules`), validated: every expression compiles. */
    rules: MetricRuleSpec[];
    http: {
      /** Label HTTP metrics with the request path. @default true (as in Dapr 1.14–1.16) */
      increasedCardinality: boolean;
      /** Path templates (`/orders/{id}`) that collapse matching paths into one label value. */
      pathMatching: string[];
      excludeVerbs: boolean;
    };
  };
  /** Service invocation ACL; enforced by the invocation block. */
  accessControl?: AccessControlSpec;
  secretScopes: SecretScope[];
  api: { allowed: ApiRule[]; denied: ApiRule[] };
  /** Preview features by name. */
  features: Record<string, boolean>;
  apiLogging: { enabled: boolean; obfuscateURLs: boolean; omitHealthChecks: boolean };
  /** The validated spec, for sections Weft does not interpret (pipelines, workflow limits). */
  spec: ConfigurationSpec;
}

/** The configuration without `--config`. */
export function defaultConfiguration(): WeftConfiguration {
  return {
    name: 'default',
    tracing: { samplingRate: 0, stdout: false },
    metrics: {
      enabled: true,
      recordErrorCodes: false,
      latencyBucketsMs: [...DEFAULT_LATENCY_BUCKETS_MS],
      rules: [],
      http: { increasedCardinality: true, pathMatching: [], excludeVerbs: false },
    },
    secretScopes: [],
    api: { allowed: [], denied: [] },
    features: {},
    apiLogging: { enabled: false, obfuscateURLs: false, omitHealthChecks: false },
    spec: {},
  };
}

function fieldOf(issue: z.core.$ZodIssue): string {
  const parts = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') return [...parts, issue.keys.join(', ')].join('.');
  return parts.join('.');
}

function parseHeaders(value: string | { name: string; value: string }[] | undefined): Record<string, string> {
  if (value === undefined) return {};
  if (Array.isArray(value)) return Object.fromEntries(value.map((h) => [h.name, h.value]));
  const headers: Record<string, string> = {};
  for (const pair of value.split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) headers[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return headers;
}

function normalizeRules(rules: readonly ApiAccessRule[] | undefined): ApiRule[] {
  return (rules ?? []).map((r) => ({ name: r.name, version: r.version, protocol: (r.protocol ?? 'http').toLowerCase() === 'http' ? 'http' : 'grpc' }));
}

/** Applies a validated spec over the defaults; throws {@link ResourceError} for values zod cannot judge. */
export function resolveConfiguration(spec: ConfigurationSpec, name: string, file: string): WeftConfiguration {
  const config = defaultConfiguration();
  config.name = name;
  config.file = file;
  config.spec = spec;
  const t = spec.tracing;
  if (t) {
    if (t.samplingRate !== undefined && String(t.samplingRate) !== '') {
      const rate = Number(t.samplingRate);
      if (!Number.isFinite(rate) || rate < 0) {
        throw new ResourceError(file, 'spec.tracing.samplingRate', `expected a number between "0" and "1", got "${String(t.samplingRate)}"`);
      }
      config.tracing.samplingRate = Math.min(rate, 1);
    }
    config.tracing.stdout = t.stdout ?? false;
    if (t.zipkin?.endpointAddress) config.tracing.zipkinEndpoint = t.zipkin.endpointAddress;
    if (t.otel?.endpointAddress) {
      // Dapr documents milliseconds (10000); a duration with a unit ("10s") reads the same.
      const timeout = t.otel.timeout === undefined ? 10_000 : durationField(file, 'spec.tracing.otel.timeout', t.otel.timeout, 1);
      if (timeout <= 0) throw new ResourceError(file, 'spec.tracing.otel.timeout', 'expected a positive timeout, e.g. 10000 (milliseconds) or 10s');
      config.tracing.otel = {
        endpointAddress: t.otel.endpointAddress,
        isSecure: t.otel.isSecure ?? true,
        protocol: t.otel.protocol ?? 'grpc',
        headers: parseHeaders(t.otel.headers),
        timeoutMs: timeout,
      };
    }
  }
  if (spec.metrics && spec.metric) throw new ResourceError(file, 'spec.metric', 'use either "metrics" or its alias "metric", not both');
  const m = spec.metrics ?? spec.metric;
  if (m) {
    config.metrics.enabled = m.enabled ?? true;
    config.metrics.recordErrorCodes = m.recordErrorCodes ?? false;
    if (m.latencyDistributionBuckets && m.latencyDistributionBuckets.length > 0) {
      config.metrics.latencyBucketsMs = [...new Set(m.latencyDistributionBuckets)].sort((a, b) => a - b);
    }
    const rulesField = spec.metrics ? 'spec.metrics.rules' : 'spec.metric.rules';
    config.metrics.rules = m.rules ?? [];
    try {
      MetricLabelRules.compile(config.metrics.rules, rulesField);
    } catch (err) {
      if (err instanceof MetricRuleError) throw new ResourceError(file, err.path, err.message);
      throw err;
    }
    for (const [i, p] of (m.http?.pathMatching ?? []).entries()) {
      if (!p.startsWith('/')) throw new ResourceError(file, `spec.metrics.http.pathMatching.${i}`, `a path template starts with "/", got "${p}"`);
    }
    config.metrics.http = {
      increasedCardinality: m.http?.increasedCardinality ?? true,
      pathMatching: m.http?.pathMatching ?? [],
      excludeVerbs: m.http?.excludeVerbs ?? false,
    };
  }
  if (spec.accessControl) config.accessControl = spec.accessControl;
  config.secretScopes = spec.secrets?.scopes ?? [];
  const stores = new Set<string>();
  for (const [i, scope] of config.secretScopes.entries()) {
    if (stores.has(scope.storeName)) throw new ResourceError(file, `spec.secrets.scopes.${i}.storeName`, `"${scope.storeName}" is scoped twice`);
    stores.add(scope.storeName);
  }
  config.api = { allowed: normalizeRules(spec.api?.allowed), denied: normalizeRules(spec.api?.denied) };
  for (const f of spec.features ?? []) config.features[f.name] = f.enabled;
  const a = spec.logging?.apiLogging;
  config.apiLogging = { enabled: a?.enabled ?? false, obfuscateURLs: a?.obfuscateURLs ?? false, omitHealthChecks: a?.omitHealthChecks ?? false };
  return config;
}

/** Parses the text of a Configuration file. */
export function parseConfiguration(file: string, text: string): WeftConfiguration {
  const docs = parseYamlDocuments(file, text);
  const doc = docs.find((d) => d['kind'] === 'Configuration') ?? docs[0];
  if (!doc) throw new ResourceError(file, '', 'the file holds no Configuration document');
  const result = schemas().configurationSchema.safeParse(doc);
  if (!result.success) {
    const issue = result.error.issues[0] as z.core.$ZodIssue;
    throw new ResourceError(file, fieldOf(issue), issue.message);
  }
  return resolveConfiguration(result.data.spec ?? {}, result.data.metadata.name, file);
}

/**
 * The environment layer: daprd reads the standard OpenTelemetry variables over the file's `otel`
 * section. Returns a new object; the input is not changed.
 */
export function applyConfigurationEnv(config: WeftConfiguration, env: Readonly<Record<string, string | undefined>>): WeftConfiguration {
  const endpoint = env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  if (!endpoint) return config;
  const insecure = env['OTEL_EXPORTER_OTLP_INSECURE'];
  const protocol = env['OTEL_EXPORTER_OTLP_PROTOCOL'];
  const base = config.tracing.otel;
  return {
    ...config,
    tracing: {
      ...config.tracing,
      otel: {
        endpointAddress: endpoint,
        isSecure: insecure === undefined ? (base?.isSecure ?? !endpoint.startsWith('http://')) : insecure.toLowerCase() !== 'true',
        protocol: protocol?.startsWith('http') ? 'http' : protocol === 'grpc' ? 'grpc' : (base?.protocol ?? 'grpc'),
        headers: base?.headers ?? {},
        timeoutMs: base?.timeoutMs ?? 10_000,
      },
    },
  };
}

/** Defaults → file (when given) → environment. */
export async function loadConfiguration(
  file: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Promise<WeftConfiguration> {
  let config = defaultConfiguration();
  if (file) {
    const resolved = path.resolve(file);
    let text: string;
    try {
      text = await fs.readFile(resolved, 'utf8');
    } catch (err) {
      throw new ResourceError(resolved, '', `cannot read the configuration file: ${(err as Error).message}`);
    }
    config = parseConfiguration(resolved, text);
  }
  return applyConfigurationEnv(config, env);
}

/** Sections present in the file that Weft accepts but does not act on yet, with why (logged at start-up). */
export function ignoredConfigurationSections(config: WeftConfiguration): string[] {
  const spec = config.spec;
  const notes: string[] = [];
  if (spec.httpPipeline?.handlers?.length || spec.appHttpPipeline?.handlers?.length) notes.push('httpPipeline/appHttpPipeline: HTTP middleware components are not supported yet');
  if (spec.components?.deny?.length) notes.push('components.deny: not enforced yet');
  if (spec.mtls) notes.push('mtls: control-plane setting; Weft has no Sentry: enable mTLS between sidecars with --enable-mtls and your own certificates');
  return notes.map((n) => `Configuration ${config.name}: ${n}`);
}
