/**
 * A small Kustomize renderer for the manifest tests: no `kustomize` binary is installable from npm,
 * and none runs here. It renders exactly the subset the examples use and refuses everything else by
 * name, so a manifest that needs more fails loudly instead of rendering wrongly:
 *
 * - `resources`: files (multi-document YAML) and directories holding a `kustomization.yaml`;
 * - `namespace`: set on every namespaced object;
 * - `images`: `name` → `newName` / `newTag` on containers and init containers of workload templates;
 * - `patches`: strategic-merge patches from `path` (one document) or inline `patch`, applied to the
 *   object the patch names, or with `target` (`kind`, `name`, `labelSelector` of `k=v` pairs) to
 *   every matching object. Lists merge by Kubernetes' merge keys (containers, env, volumes … by
 *   `name`, volumeMounts by `mountPath`, ports by `containerPort` / `port`); `$patch: delete` removes
 *   an element; `null` removes a field. JSON 6902 patches are refused.
 * - `configMapGenerator` / `secretGenerator` (`literals`, `files`, `envs`, `type`) and
 *   `generatorOptions`: the objects are generated WITHOUT kustomize's content-hash name suffix, so
 *   references keep their names — what `disableNameSuffixHash: true` gives, and equivalent for the
 *   checks the tests make. `behavior: merge|replace` is refused.
 * - `commonLabels` (metadata, selectors, pod templates), `labels` (`pairs`, `includeSelectors`,
 *   `includeTemplates`), `commonAnnotations` (metadata and pod templates), `replicas`.
 *
 * `namePrefix`/`nameSuffix` and everything else are refused: they rewrite references.
 * Order: resources and generators, patches, labels and annotations, images, replicas, namespace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/** A Kubernetes object as plain data. */
export type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } };

type Json = Record<string, unknown>;

const SUPPORTED_KEYS = new Set([
  'apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches', 'configMapGenerator', 'secretGenerator',
  'generatorOptions', 'commonLabels', 'labels', 'commonAnnotations', 'replicas',
]);

/** Kinds that live outside namespaces (the ones a namespace must not be set on). */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume', 'StorageClass',
  'PriorityClass', 'IngressClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'Node',
]);

/** Merge keys of the lists the examples patch (strategic merge); other lists are replaced. */
const MERGE_KEYS: Record<string, string[]> = {
  containers: ['name'],
  initContainers: ['name'],
  env: ['name'],
  volumes: ['name'],
  volumeMounts: ['mountPath'],
  ports: ['containerPort', 'port'],
  imagePullSecrets: ['name'],
  volumeClaimTemplates: [],
};

/** Thrown for a kustomization this renderer cannot render; names the file and the field. */
export class KustomizeError extends Error {
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'KustomizeError';
  }
}

const isMap = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads every YAML document of a file (empty documents skipped). */
export function readYamlDocuments(file: string): Json[] {
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'));
  const out: Json[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new KustomizeError(file, doc.errors.map((e) => e.message).join('; '));
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isMap(value)) throw new KustomizeError(file, 'every document must be a mapping');
    out.push(value);
  }
  return out;
}

function asObject(file: string, doc: Json): K8sObject {
  const meta = doc['metadata'];
  if (typeof doc['apiVersion'] !== 'string' || typeof doc['kind'] !== 'string' || !isMap(meta) || typeof meta['name'] !== 'string') {
    throw new KustomizeError(file, 'every resource needs apiVersion, kind and metadata.name');
  }
  return doc as K8sObject;
}

/** Strategic merge of `patch` into `base` (both plain data); returns a new value. */
export function strategicMerge(base: unknown, patch: unknown, field = ''): unknown {
  if (patch === null) return undefined;
  if (Array.isArray(patch)) {
    const keys = MERGE_KEYS[field];
    if (!keys || keys.length === 0 || !Array.isArray(base)) return patch.filter((p) => !(isMap(p) && p['$patch'] === 'delete'));
    const result: unknown[] = [...base];
    for (const item of patch) {
      if (!isMap(item)) {
        result.push(item);
        continue;
      }
      const key = keys.find((k) => item[k] !== undefined);
      const index = key === undefined ? -1 : result.findIndex((r) => isMap(r) && r[key] === item[key]);
      if (item['$patch'] === 'delete') {
        if (index >= 0) result.splice(index, 1);
        continue;
      }
      if (index >= 0) result[index] = strategicMerge(result[index], item, '');
      else result.push(item);
    }
    return result;
  }
  if (isMap(patch)) {
    if (patch['$patch'] === 'delete') return undefined;
    if (patch['$patch'] === 'replace') {
      const { $patch: _drop, ...rest } = patch;
      return rest;
    }
    const out: Json = isMap(base) ? { ...base } : {};
    for (const [k, v] of Object.entries(patch)) {
      const merged = strategicMerge(out[k], v, k);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  return patch;
}

function matchesTarget(obj: K8sObject, target: Json): boolean {
  if (typeof target['kind'] === 'string' && obj.kind !== target['kind']) return false;
  if (typeof target['name'] === 'string' && obj.metadata.name !== target['name']) return false;
  if (typeof target['labelSelector'] === 'string') {
    const labels = obj.metadata.labels ?? {};
    for (const term of target['labelSelector'].split(',')) {
      const [k, v] = term.split('=').map((s) => s.trim());
      if (!k || v === undefined || labels[k] !== v) return false;
    }
  }
  return true;
}

function podSpecs(obj: K8sObject): Json[] {
  const spec = obj['spec'];
  if (!isMap(spec)) return [];
  if (obj.kind === 'Pod') return [spec];
  const template = spec['template'];
  if (isMap(template) && isMap(template['spec'])) return [template['spec']];
  const jobTemplate = spec['jobTemplate'];
  if (isMap(jobTemplate) && isMap(jobTemplate['spec']) && isMap(jobTemplate['spec']['template']) && isMap(jobTemplate['spec']['template']['spec'])) {
    return [jobTemplate['spec']['template']['spec']];
  }
  return [];
}

function splitImage(image: string): { name: string; tag?: string } {
  const at = image.indexOf('@');
  const withoutDigest = at >= 0 ? image.slice(0, at) : image;
  const colon = withoutDigest.lastIndexOf(':');
  if (colon > withoutDigest.lastIndexOf('/')) return { name: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1) };
  return { name: withoutDigest };
}

/** Renders the kustomization in `dir` to its list of objects. */
export function renderKustomization(dir: string): K8sObject[] {
  const file = path.join(dir, 'kustomization.yaml');
  if (!fs.existsSync(file)) throw new KustomizeError(dir, 'no kustomization.yaml');
  const [k] = readYamlDocuments(file);
  if (!k) throw new KustomizeError(file, 'empty kustomization');
  for (const key of Object.keys(k)) {
    if (!SUPPORTED_KEYS.has(key)) throw new KustomizeError(file, `"${key}" is not supported by the test renderer (supported: ${[...SUPPORTED_KEYS].join(', ')})`);
  }
  let objects: K8sObject[] = [];
  for (const entry of (k['resources'] as unknown[] | undefined) ?? []) {
    if (typeof entry !== 'string') throw new KustomizeError(file, 'resources: entries must be paths');
    const target = path.resolve(dir, entry);
    if (!fs.existsSync(target)) throw new KustomizeError(file, `resources: ${entry} does not exist`);
    if (fs.statSync(target).isDirectory()) objects.push(...renderKustomization(target));
    else objects.push(...readYamlDocuments(target).map((d) => asObject(target, d)));
  }
  objects.push(...generated(file, dir, k));
  const ids = new Set<string>();
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (ids.has(id)) throw new KustomizeError(file, `resource ${id} is defined twice`);
    ids.add(id);
  }

  for (const entry of (k['patches'] as unknown[] | undefined) ?? []) {
    if (!isMap(entry)) throw new KustomizeError(file, 'patches: entries must be mappings');
    let patches: Json[];
    if (typeof entry['path'] === 'string') patches = readYamlDocuments(path.resolve(dir, entry['path']));
    else if (typeof entry['patch'] === 'string') patches = parseAllDocuments(entry['patch']).map((d) => d.toJS() as Json);
    else throw new KustomizeError(file, 'patches: each entry needs path or patch');
    if (patches.length !== 1) throw new KustomizeError(file, 'patches: one document per patch');
    const patch = patches[0] as Json;
    if (Array.isArray(patch) || patch['op'] !== undefined) throw new KustomizeError(file, 'patches: JSON 6902 patches are not supported by the test renderer');
    const target = isMap(entry['target']) ? entry['target'] : undefined;
    const patchObject = asObject(file, patch);
    const matches = objects.filter((o) =>
      target ? matchesTarget(o, target) : o.kind === patchObject.kind && o.metadata.name === patchObject.metadata.name,
    );
    if (matches.length === 0) throw new KustomizeError(file, `patch ${String(entry['path'] ?? 'inline')} matches no resource`);
    objects = objects.map((o) => {
      if (!matches.includes(o)) return o;
      // With a target the patch's own name is a placeholder; the object keeps its identity.
      const merged = strategicMerge(o, { ...patchObject, metadata: { ...patchObject.metadata, name: o.metadata.name } }) as K8sObject;
      return merged;
    });
  }

  applyLabels(file, objects, k);

  for (const image of (k['images'] as unknown[] | undefined) ?? []) {
    if (!isMap(image) || typeof image['name'] !== 'string') throw new KustomizeError(file, 'images: each entry needs a name');
    const { name, newName, newTag } = image as { name: string; newName?: string; newTag?: string };
    let used = false;
    for (const o of objects) {
      for (const spec of podSpecs(o)) {
        for (const list of ['containers', 'initContainers']) {
          for (const c of (spec[list] as Json[] | undefined) ?? []) {
            if (typeof c['image'] !== 'string') continue;
            const current = splitImage(c['image']);
            if (current.name !== name) continue;
            used = true;
            const tag = newTag !== undefined ? String(newTag) : current.tag;
            c['image'] = `${newName ?? current.name}${tag ? `:${tag}` : ''}`;
          }
        }
      }
    }
    if (!used) throw new KustomizeError(file, `images: no container uses the image "${name}"`);
  }

  for (const entry of (k['replicas'] as unknown[] | undefined) ?? []) {
    if (!isMap(entry) || typeof entry['name'] !== 'string' || typeof entry['count'] !== 'number') throw new KustomizeError(file, 'replicas: entries need name and count');
    const matches = objects.filter((o) => o.metadata.name === entry['name'] && isMap(o['spec']) && ['Deployment', 'StatefulSet', 'ReplicaSet'].includes(o.kind));
    if (matches.length === 0) throw new KustomizeError(file, `replicas: no workload named ${entry['name']}`);
    for (const o of matches) (o['spec'] as Json)['replicas'] = entry['count'];
  }

  if (typeof k['namespace'] === 'string') {
    const ns = k['namespace'];
    objects = objects.map((o) => (CLUSTER_SCOPED.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace: ns } }));
  }
  return objects;
}

/** `key=value` lines of an env file (comments and blank lines skipped). */
function envFile(file: string): [string, string][] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const eq = l.indexOf('=');
      if (eq <= 0) throw new KustomizeError(file, `not key=value: ${l}`);
      return [l.slice(0, eq), l.slice(eq + 1)];
    });
}

/** The ConfigMaps and Secrets of `configMapGenerator` / `secretGenerator`. */
function generated(file: string, dir: string, k: Json): K8sObject[] {
  const options = isMap(k['generatorOptions']) ? k['generatorOptions'] : {};
  const out: K8sObject[] = [];
  for (const [field, kind] of [['configMapGenerator', 'ConfigMap'], ['secretGenerator', 'Secret']] as const) {
    for (const entry of (k[field] as unknown[] | undefined) ?? []) {
      if (!isMap(entry) || typeof entry['name'] !== 'string') throw new KustomizeError(file, `${field}: each entry needs a name`);
      if (entry['behavior'] !== undefined && entry['behavior'] !== 'create') throw new KustomizeError(file, `${field}: behavior ${String(entry['behavior'])} is not supported by the test renderer`);
      const data: Record<string, string> = {};
      for (const literal of (entry['literals'] as string[] | undefined) ?? []) {
        const eq = literal.indexOf('=');
        if (eq <= 0) throw new KustomizeError(file, `${field}: literal "${literal}" is not key=value`);
        data[literal.slice(0, eq)] = literal.slice(eq + 1);
      }
      for (const spec of (entry['files'] as string[] | undefined) ?? []) {
        const eq = spec.indexOf('=');
        const key = eq > 0 ? spec.slice(0, eq) : path.basename(spec);
        const source = path.resolve(dir, eq > 0 ? spec.slice(eq + 1) : spec);
        if (!fs.existsSync(source)) throw new KustomizeError(file, `${field}: ${spec} does not exist`);
        data[key] = fs.readFileSync(source, 'utf8');
      }
      for (const env of (entry['envs'] as string[] | undefined) ?? []) for (const [key, value] of envFile(path.resolve(dir, env))) data[key] = value;
      const entryOptions = isMap(entry['options']) ? entry['options'] : {};
      const labels = { ...((options['labels'] as Record<string, string> | undefined) ?? {}), ...((entryOptions['labels'] as Record<string, string> | undefined) ?? {}) };
      const annotations = { ...((options['annotations'] as Record<string, string> | undefined) ?? {}), ...((entryOptions['annotations'] as Record<string, string> | undefined) ?? {}) };
      const metadata = {
        name: entry['name'],
        ...(typeof entry['namespace'] === 'string' ? { namespace: entry['namespace'] } : {}),
        ...(Object.keys(labels).length > 0 ? { labels } : {}),
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      };
      out.push(
        kind === 'ConfigMap'
          ? { apiVersion: 'v1', kind, metadata, data }
          : {
              apiVersion: 'v1',
              kind,
              metadata,
              type: typeof entry['type'] === 'string' ? entry['type'] : 'Opaque',
              data: Object.fromEntries(Object.entries(data).map(([key, v]) => [key, Buffer.from(v).toString('base64')])),
            },
      );
    }
  }
  return out;
}

function addTo(target: Json, field: string, values: Record<string, string>): void {
  target[field] = { ...(isMap(target[field]) ? target[field] : {}), ...values };
}

/** `commonLabels`, `labels` and `commonAnnotations`. */
function applyLabels(file: string, objects: K8sObject[], k: Json): void {
  const groups: { pairs: Record<string, string>; selectors: boolean; templates: boolean }[] = [];
  if (k['commonLabels'] !== undefined) {
    if (!isMap(k['commonLabels'])) throw new KustomizeError(file, 'commonLabels must be a mapping');
    groups.push({ pairs: k['commonLabels'] as Record<string, string>, selectors: true, templates: true });
  }
  for (const entry of (k['labels'] as unknown[] | undefined) ?? []) {
    if (!isMap(entry) || !isMap(entry['pairs'])) throw new KustomizeError(file, 'labels: each entry needs pairs');
    groups.push({ pairs: entry['pairs'] as Record<string, string>, selectors: entry['includeSelectors'] === true, templates: entry['includeTemplates'] === true || entry['includeSelectors'] === true });
  }
  const annotations = k['commonAnnotations'];
  if (annotations !== undefined && !isMap(annotations)) throw new KustomizeError(file, 'commonAnnotations must be a mapping');
  for (const o of objects) {
    const spec = isMap(o['spec']) ? o['spec'] : undefined;
    const template = spec && isMap(spec['template']) ? spec['template'] : undefined;
    if (template && !isMap(template['metadata'])) template['metadata'] = {};
    for (const g of groups) {
      addTo(o.metadata, 'labels', g.pairs);
      if (g.templates && template) addTo(template['metadata'] as Json, 'labels', g.pairs);
      if (g.selectors && spec) {
        if (o.kind === 'Service') addTo(spec, 'selector', g.pairs);
        else if (isMap(spec['selector'])) addTo(spec['selector'], 'matchLabels', g.pairs);
      }
    }
    if (isMap(annotations)) {
      addTo(o.metadata, 'annotations', annotations as Record<string, string>);
      if (template) addTo(template['metadata'] as Json, 'annotations', annotations as Record<string, string>);
    }
  }
}
