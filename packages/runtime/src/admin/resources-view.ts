/**
 * What the components page shows beside the components: the Configuration, the Resiliency resources,
 * the subscriptions (declarative and programmatic) and the service-invocation access-control rules in
 * effect for this app, each with its YAML. Declarative resources show the document as loaded;
 * programmatic subscriptions show the equivalent `Subscription` resource. Header values of the
 * tracing exporter (often an API key) are replaced by `<redacted>`.
 */
import type * as Yaml from 'yaml';
import { lazyModule } from '../util/lazy-module.js';
import type { WeftConfiguration } from '../config/configuration.js';
import type { AccessControlSpec } from '../config/configuration-schema.js';
import type { LoadedDocument } from '../resources/loader.js';
import type { SubscriptionMetadata } from '../blocks/pubsub/subscriber.js';

/** The YAML writer, loaded when the admin API first shows a resource. */
const yamlModule = lazyModule<typeof Yaml>('yaml');

/** A resource as the page lists it. */
export interface AdminResource {
  name: string;
  /** The file it was loaded from; absent for defaults and programmatic subscriptions. */
  file?: string;
  yaml: string;
}

/** One subscription in effect. */
export interface AdminSubscription extends AdminResource {
  pubsubName: string;
  topic: string;
  type: 'declarative' | 'programmatic';
  rules: { match: string; path: string }[];
  deadLetterTopic?: string;
}

/** One access-control policy (an app allowed or denied to call this one). */
export interface AdminAccessPolicy {
  appId: string;
  defaultAction: string;
  trustDomain: string;
  namespace: string;
  operations: { name: string; httpVerb: string[]; action: string }[];
}

/** `GET /v1.0-weft/admin/resources`. */
export interface AdminResources {
  appId: string;
  /** `default` (no file) or the file's Configuration. */
  configuration: AdminResource & { isDefault: boolean };
  resiliency: AdminResource[];
  subscriptions: AdminSubscription[];
  /** Absent when the Configuration has no `accessControl` (every app may call this one). */
  accessControl?: { defaultAction: string; trustDomain: string; policies: AdminAccessPolicy[]; yaml: string };
}

/** What the view is built from. */
export interface ResourcesViewInput {
  appId: string;
  configuration: WeftConfiguration;
  /** Resiliency documents found under the resources paths. */
  resiliencyDocs: readonly LoadedDocument[];
  /** The ones applied to this app (scopes), by name. */
  resiliencyLoaded: readonly { name: string; namespace: string }[];
  /** Subscription documents found under the resources paths. */
  subscriptionDocs: readonly LoadedDocument[];
  /** The running subscriptions. */
  subscriptions: readonly SubscriptionMetadata[];
}

const REDACTED = '<redacted>';

function nameOf(doc: Record<string, unknown>): string {
  const metadata = doc['metadata'] as { name?: unknown } | undefined;
  return typeof metadata?.name === 'string' ? metadata.name : '';
}

/** The Configuration spec with exporter header values hidden. */
function redactedSpec(spec: WeftConfiguration['spec']): unknown {
  const copy = structuredClone(spec) as Record<string, unknown>;
  const otel = (copy['tracing'] as { otel?: { headers?: unknown } } | undefined)?.otel;
  if (otel?.headers !== undefined) {
    otel.headers = Array.isArray(otel.headers)
      ? (otel.headers as { name: string }[]).map((h) => ({ name: h.name, value: REDACTED }))
      : String(otel.headers)
          .split(',')
          .map((kv) => `${kv.split('=')[0]}=${REDACTED}`)
          .join(',');
  }
  return copy;
}

/** The subscription document that declared `s`, if it was declarative. */
function declaringDoc(s: SubscriptionMetadata, docs: readonly LoadedDocument[]): LoadedDocument | undefined {
  return docs.find((d) => {
    const spec = (d.doc['spec'] ?? {}) as { pubsubname?: unknown; topic?: unknown };
    return spec.pubsubname === s.pubsubname && spec.topic === s.topic;
  });
}

/** The equivalent `dapr.io/v2alpha1` Subscription of a running subscription. */
function subscriptionDoc(s: SubscriptionMetadata, appId: string): Record<string, unknown> {
  const rules = s.rules.filter((r) => r.match !== '').map((r) => ({ match: r.match, path: r.path }));
  const fallback = s.rules.find((r) => r.match === '')?.path;
  return {
    apiVersion: 'dapr.io/v2alpha1',
    kind: 'Subscription',
    metadata: { name: `${s.pubsubname}-${s.topic}` },
    spec: {
      pubsubname: s.pubsubname,
      topic: s.topic,
      routes: { ...(rules.length > 0 ? { rules } : {}), ...(fallback !== undefined ? { default: fallback } : {}) },
      ...(s.deadLetterTopic ? { deadLetterTopic: s.deadLetterTopic } : {}),
      ...(Object.keys(s.metadata).length > 0 ? { metadata: s.metadata } : {}),
    },
    scopes: [appId],
  };
}

function accessControlView(spec: AccessControlSpec): NonNullable<AdminResources['accessControl']> {
  return {
    defaultAction: spec.defaultAction ?? 'allow',
    trustDomain: spec.trustDomain ?? 'public',
    policies: (spec.policies ?? []).map((p) => ({
      appId: p.appId,
      defaultAction: p.defaultAction ?? spec.defaultAction ?? 'allow',
      trustDomain: p.trustDomain ?? spec.trustDomain ?? 'public',
      namespace: p.namespace ?? 'default',
      operations: (p.operations ?? []).map((o) => ({ name: o.name, httpVerb: o.httpVerb ?? ['*'], action: o.action })),
    })),
    yaml: yamlModule().stringify({ accessControl: spec }),
  };
}

/** Builds the view. */
export function resourcesView(input: ResourcesViewInput): AdminResources {
  const { configuration: c } = input;
  const isDefault = c.file === undefined;
  const configuration = {
    name: c.name,
    isDefault,
    ...(c.file ? { file: c.file } : {}),
    yaml: yamlModule().stringify({ apiVersion: 'dapr.io/v1alpha1', kind: 'Configuration', metadata: { name: c.name }, spec: redactedSpec(c.spec) }),
  };
  const applied = new Set(input.resiliencyLoaded.map((r) => r.name));
  const resiliency = input.resiliencyDocs
    .filter((d) => applied.has(nameOf(d.doc)))
    .map((d) => ({ name: nameOf(d.doc), file: d.file, yaml: yamlModule().stringify(d.doc) }));
  const subscriptions = input.subscriptions.map((s): AdminSubscription => {
    const declared = s.type === 'DECLARATIVE' ? declaringDoc(s, input.subscriptionDocs) : undefined;
    return {
      name: declared ? nameOf(declared.doc) : `${s.pubsubname}-${s.topic}`,
      pubsubName: s.pubsubname,
      topic: s.topic,
      type: s.type === 'DECLARATIVE' ? 'declarative' : 'programmatic',
      rules: s.rules,
      ...(s.deadLetterTopic ? { deadLetterTopic: s.deadLetterTopic } : {}),
      ...(declared ? { file: declared.file } : {}),
      yaml: yamlModule().stringify(declared ? declared.doc : subscriptionDoc(s, input.appId)),
    };
  });
  const acl = c.spec.accessControl;
  return { appId: input.appId, configuration, resiliency, subscriptions, ...(acl ? { accessControl: accessControlView(acl) } : {}) };
}
