/** The test renderer: the Kustomize subset it claims, and a loud refusal of the rest. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KustomizeError, renderKustomization, strategicMerge } from './kustomize.js';

let dir: string;
const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  fs.writeFileSync(path.join(dir, file), text);
};

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {tier: front}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: app
          image: web:latest
          env: [{name: A, value: "1"}, {name: B, value: "2"}]
        - name: side
          image: registry.local:5000/side
`;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kustomize-test-'));
  write('base/deploy.yaml', `${deployment}---\napiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n`);
  write('base/kustomization.yaml', 'resources: [deploy.yaml]\nnamespace: demo\n');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('renderKustomization', () => {
  it('renders nested resources and sets the namespace on namespaced objects only', () => {
    const objects = renderKustomization(path.join(dir, 'base'));
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}/${o.metadata.namespace ?? '-'}`)).toEqual(['Deployment/web/demo', 'Namespace/demo/-']);
  });

  it('applies a targeted strategic-merge patch, merging containers and env by name', () => {
    write('overlay/patch.yaml', `apiVersion: apps/v1
kind: Deployment
metadata: {name: placeholder}
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: app
          env: [{name: B, value: "20"}, {name: C, value: "3"}]
`);
    write('overlay/kustomization.yaml', 'resources: [../base]\npatches:\n  - path: patch.yaml\n    target: {kind: Deployment, labelSelector: tier=front}\n');
    const [web] = renderKustomization(path.join(dir, 'overlay'));
    const spec = web?.['spec'] as { replicas: number; template: { spec: { containers: { name: string; image: string; env?: unknown[] }[] } } };
    expect(web?.metadata.name).toBe('web');
    expect(spec.replicas).toBe(3);
    expect(spec.template.spec.containers.map((c) => c.name)).toEqual(['app', 'side']);
    expect(spec.template.spec.containers[0]?.env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: '20' }, { name: 'C', value: '3' }]);
    expect(spec.template.spec.containers[0]?.image).toBe('web:latest');
  });

  it('rewrites images by name, keeping a tag unless a new one is given (registry ports are not tags)', () => {
    write('overlay/kustomization.yaml', `resources: [../base]
images:
  - {name: web, newTag: "1.2"}
  - {name: registry.local:5000/side, newName: other/side}
`);
    const [web] = renderKustomization(path.join(dir, 'overlay'));
    const images = (web?.['spec'] as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers.map((c) => c.image);
    expect(images).toEqual(['web:1.2', 'other/side']);
  });

  it('refuses fields it does not render, patches that match nothing, unused images and duplicates', () => {
    write('a/kustomization.yaml', 'resources: [../base]\nnamePrefix: dev-\n');
    expect(() => renderKustomization(path.join(dir, 'a'))).toThrow(/"namePrefix" is not supported/);
    write('b/kustomization.yaml', 'resources: [../base]\npatches:\n  - patch: |\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {name: nope}\n');
    expect(() => renderKustomization(path.join(dir, 'b'))).toThrow(/matches no resource/);
    write('c/kustomization.yaml', 'resources: [../base]\nimages: [{name: ghost, newTag: x}]\n');
    expect(() => renderKustomization(path.join(dir, 'c'))).toThrow(/no container uses the image "ghost"/);
    write('d/kustomization.yaml', 'resources: [../base, ../base/deploy.yaml]\n');
    expect(() => renderKustomization(path.join(dir, 'd'))).toThrow(KustomizeError);
    write('e/kustomization.yaml', 'resources: [../base]\npatches:\n  - patch: |\n      - {op: replace, path: /spec/replicas, value: 2}\n');
    expect(() => renderKustomization(path.join(dir, 'e'))).toThrow(KustomizeError);
  });
});

describe('generators, labels, annotations and replicas', () => {
  it('generates ConfigMaps and Secrets from literals, files and env files, without a hash suffix', () => {
    write('gen/app.yaml', 'key: value\n');
    write('gen/db.env', '# comment\nUSER=shop\nPASSWORD=a=b\n');
    write('gen/kustomization.yaml', `resources: [../base]
generatorOptions: {labels: {generated: "yes"}}
configMapGenerator:
  - {name: config, files: [app.yaml, renamed.yaml=app.yaml], literals: [MODE=dev]}
secretGenerator:
  - {name: db, envs: [db.env], type: Opaque}
`);
    const objects = renderKustomization(path.join(dir, 'gen'));
    const config = objects.find((o) => o.kind === 'ConfigMap');
    expect(config?.metadata).toEqual({ name: 'config', labels: { generated: 'yes' } });
    expect(config?.['data']).toEqual({ MODE: 'dev', 'app.yaml': 'key: value\n', 'renamed.yaml': 'key: value\n' });
    const secret = objects.find((o) => o.kind === 'Secret');
    expect(secret?.['data']).toEqual({ USER: Buffer.from('shop').toString('base64'), PASSWORD: Buffer.from('a=b').toString('base64') });
    write('bad/kustomization.yaml', 'resources: [../base]\nconfigMapGenerator:\n  - {name: config, behavior: merge, literals: [A=1]}\n');
    expect(() => renderKustomization(path.join(dir, 'bad'))).toThrow(/behavior merge/);
  });

  it('adds commonLabels to metadata, selectors and templates, and labels only where asked; sets replicas', () => {
    write('lab/kustomization.yaml', `resources: [../base]
commonLabels: {team: shop}
labels:
  - pairs: {owner: ops}
commonAnnotations: {note: hi}
replicas:
  - {name: web, count: 4}
`);
    const [web, ns] = renderKustomization(path.join(dir, 'lab'));
    const spec = web?.['spec'] as { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> } } };
    expect(web?.metadata.labels).toEqual({ tier: 'front', team: 'shop', owner: 'ops' });
    expect(spec.selector.matchLabels).toEqual({ app: 'web', team: 'shop' });
    expect(spec.template.metadata.labels).toEqual({ app: 'web', team: 'shop' });
    expect(spec.template.metadata.annotations).toEqual({ note: 'hi' });
    expect(spec.replicas).toBe(4);
    expect(ns?.metadata.labels).toEqual({ team: 'shop', owner: 'ops' });
  });
});

describe('strategicMerge', () => {
  it('deletes fields set to null and list elements marked $patch: delete, and replaces lists without merge keys', () => {
    const base = { a: 1, b: { c: 2 }, containers: [{ name: 'x' }, { name: 'y' }], args: ['--a', '1'] };
    expect(strategicMerge(base, { a: null, containers: [{ name: 'y', $patch: 'delete' }], args: ['--b'] })).toEqual({
      b: { c: 2 },
      containers: [{ name: 'x' }],
      args: ['--b'],
    });
  });
});
