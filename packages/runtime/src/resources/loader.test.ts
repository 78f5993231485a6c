import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResourceError, loadResources, parseYamlDocuments } from './loader.js';

const component = (name: string, type = 'state.in-memory', extra = '') =>
  `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  type: ${type}\n  version: v1\n${extra}`;

let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-loader-'));
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
  return file;
}

/** Loads `dir` and returns the ResourceError it must fail with. */
async function loadError(paths: string[] = [dir]): Promise<ResourceError> {
  const err: unknown = await loadResources(paths).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ResourceError);
  return err as ResourceError;
}

describe('loadResources', () => {
  it('reads every document of multi-document .yaml and .yml files, in file order', async () => {
    await write('a.yaml', `${component('one')}---\n${component('two')}`);
    await write('b.yml', component('three'));
    const loaded = await loadResources([dir]);
    expect(loaded.components.map((c) => [c.doc.metadata.name, path.basename(c.file), c.index])).toEqual([
      ['one', 'a.yaml', 0],
      ['two', 'a.yaml', 1],
      ['three', 'b.yml', 0],
    ]);
  });

  it('ignores other extensions and does not descend into sub-directories', async () => {
    await write('keep.yaml', component('keep'));
    await write('notes.txt', component('txt'));
    await write('c.json', '{"kind":"Component"}');
    await write('nested/deep.yaml', component('deep'));
    const loaded = await loadResources([dir]);
    expect(loaded.components.map((c) => c.doc.metadata.name)).toEqual(['keep']);
  });

  it('skips empty documents between separators', async () => {
    await write('a.yaml', `---\n${component('one')}---\n---\n# only a comment\n`);
    const loaded = await loadResources([dir]);
    expect(loaded.components.map((c) => c.doc.metadata.name)).toEqual(['one']);
  });

  it('keeps documents of other kinds in others, keyed by kind, with file and index', async () => {
    const subscription = 'apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: orders\nspec:\n  topic: orders\n';
    const resiliency = 'apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: r\nspec: {}\n';
    const file = await write('mixed.yaml', `${component('state')}---\n${subscription}---\n${resiliency}`);
    const loaded = await loadResources([dir]);
    expect(loaded.components.map((c) => c.doc.metadata.name)).toEqual(['state']);
    expect([...loaded.others.keys()].sort()).toEqual(['Resiliency', 'Subscription']);
    expect(loaded.others.get('Subscription')).toEqual([
      { file, index: 1, doc: { apiVersion: 'dapr.io/v2alpha1', kind: 'Subscription', metadata: { name: 'orders' }, spec: { topic: 'orders' } } },
    ]);
    expect(loaded.others.get('Resiliency')?.[0]?.index).toBe(2);
  });

  it('accepts a single file as a resources path', async () => {
    const file = await write('only.yaml', component('solo'));
    const loaded = await loadResources([file]);
    expect(loaded.components.map((c) => c.doc.metadata.name)).toEqual(['solo']);
  });

  it('reads several resources paths', async () => {
    await write('a/one.yaml', component('one'));
    await write('b/two.yaml', component('two'));
    const loaded = await loadResources([path.join(dir, 'a'), path.join(dir, 'b')]);
    expect(loaded.components.map((c) => c.doc.metadata.name)).toEqual(['one', 'two']);
  });

  it('parses spec.metadata values of any YAML type, secretKeyRef, envRef, auth and scopes', async () => {
    await write(
      'a.yaml',
      component(
        'full',
        'state.in-memory',
        '  ignoreErrors: true\n  initTimeout: 10s\n  metadata:\n  - name: n\n    value: 5\n  - name: b\n    value: true\n' +
          '  - name: s\n    secretKeyRef:\n      name: sec\n      key: k\n  - name: e\n    envRef: MY_VAR\n' +
          'auth:\n  secretStore: vault\nscopes:\n- app1\n- app2\n',
      ),
    );
    const [loaded] = (await loadResources([dir])).components;
    expect(loaded?.doc).toMatchObject({
      spec: {
        ignoreErrors: true,
        initTimeout: '10s',
        metadata: [
          { name: 'n', value: 5 },
          { name: 'b', value: true },
          { name: 's', secretKeyRef: { name: 'sec', key: 'k' } },
          { name: 'e', envRef: 'MY_VAR' },
        ],
      },
      auth: { secretStore: 'vault' },
      scopes: ['app1', 'app2'],
    });
  });

  it('fails naming the file and spec.type when a component has no type', async () => {
    const file = await write('bad.yaml', 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\nspec:\n  version: v1\n');
    const err = await loadError();
    expect(err.file).toBe(file);
    expect(err.field).toBe('spec.type');
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/spec\.type: .*expected string/);
  });

  it('fails naming apiVersion and the expected value for a wrong apiVersion', async () => {
    const file = await write('bad.yaml', component('x').replace('dapr.io/v1alpha1', 'dapr.io/v2'));
    const err = await loadError();
    expect(err.file).toBe(file);
    expect(err.field).toBe('apiVersion');
    expect(err.message).toContain('"dapr.io/v1alpha1"');
  });

  it('fails naming spec.version when the version is missing', async () => {
    await write('bad.yaml', 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\nspec:\n  type: state.in-memory\n');
    const err = await loadError();
    expect(err.field).toBe('spec.version');
    expect(err.message).toMatch(/spec\.version: .*expected string/);
  });

  it('fails naming spec.version with an example when the version is empty', async () => {
    await write('bad.yaml', component('x').replace('version: v1', 'version: ""'));
    const err = await loadError();
    expect(err.field).toBe('spec.version');
    expect(err.message).toContain('is required, e.g. v1');
  });

  it('fails naming the metadata item when it has no name', async () => {
    await write('bad.yaml', component('x', 'state.in-memory', '  metadata:\n  - value: orphan\n'));
    const err = await loadError();
    expect(err.field).toBe('spec.metadata.0.name');
  });

  it('fails naming the metadata item when it has an unknown field', async () => {
    await write('bad.yaml', component('x', 'state.in-memory', '  metadata:\n  - name: a\n    value: ok\n  - name: b\n    valu: typo\n'));
    const err = await loadError();
    expect(err.field).toBe('spec.metadata.1');
    expect(err.message).toContain('valu');
  });

  it('fails naming spec.type and its expected shape for a type without a kind prefix', async () => {
    await write('bad.yaml', component('x', 'redis'));
    const err = await loadError();
    expect(err.field).toBe('spec.type');
    expect(err.message).toContain('must be "<kind>.<driver>"');
  });

  it('fails naming metadata.name for a name that is not a valid path segment', async () => {
    await write('bad.yaml', component('has/slash'));
    const err = await loadError();
    expect(err.field).toBe('metadata.name');
    expect(err.message).toContain('must be a valid name');
  });

  it('fails naming the unknown top-level field', async () => {
    await write('bad.yaml', `${component('x')}scope:\n- app\n`);
    const err = await loadError();
    expect(err.message).toContain('scope');
  });

  it('fails naming kind when a document has none', async () => {
    const file = await write('bad.yaml', 'apiVersion: dapr.io/v1alpha1\nmetadata:\n  name: x\n');
    const err = await loadError();
    expect(err.file).toBe(file);
    expect(err.field).toBe('kind');
  });

  it('fails naming the file and document for invalid YAML', async () => {
    const file = await write('bad.yaml', `${component('ok')}---\nkind: Component\nmetadata: [unclosed\n`);
    const err = await loadError();
    expect(err.file).toBe(file);
    expect(err.field).toBe('document 2');
    expect(err.message).toContain('invalid YAML');
  });

  it('fails when a document is a scalar or a list instead of a mapping', async () => {
    await write('bad.yaml', '- just\n- a list\n');
    const err = await loadError();
    expect(err.field).toBe('document 1');
    expect(err.message).toContain('expected a mapping');
  });

  it('fails on duplicate component names, naming both files', async () => {
    const first = await write('a.yaml', component('same'));
    const second = await write('b.yaml', component('same', 'state.sqlite'));
    const err = await loadError();
    expect(err.file).toBe(second);
    expect(err.field).toBe('metadata.name');
    expect(err.message).toContain(first);
  });

  it('fails on duplicate component names within one file', async () => {
    await write('a.yaml', `${component('same')}---\n${component('same')}`);
    const err = await loadError();
    expect(err.field).toBe('metadata.name');
  });

  it('fails naming the path when a resources path does not exist', async () => {
    const missing = path.join(dir, 'missing');
    const err = await loadError([missing]);
    expect(err.file).toBe(missing);
    expect(err.message).toContain('cannot read resources path');
  });
});

describe('parseYamlDocuments', () => {
  it('returns one mapping per non-empty document', () => {
    expect(parseYamlDocuments('f.yaml', 'a: 1\n---\n---\nb: 2\n')).toEqual([{ a: 1 }, { b: 2 }]);
  });
});
