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
 *
 * Order: resources, then patches, then images, then namespace — as kustomize applies them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/** A Kubernetes object as plain data. */
export type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } };

type Json = Record<string, unknown>;

const SUPPORTED_KEYS = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches']);

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

  if (typeof k['namespace'] === 'string') {
    const ns = k['namespace'];
    objects = objects.map((o) => (CLUSTER_SCOPED.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace: ns } }));
  }
  return objects;
}
