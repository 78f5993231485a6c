import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logging/logger.js';
import type { LogFields, Logger } from '../logging/logger.js';
import { ResourceError, loadResources } from '../resources/loader.js';
import { Sidecar } from '../sidecar/sidecar.js';
import { resolveSidecarOptions } from '../sidecar/options.js';
import { builtinRegistry } from './builtin.js';
import type { Component, ComponentContext } from './component.js';
import { ComponentManager } from './manager.js';
import type { MetadataProperties } from './metadata.js';
import { requireString } from './metadata.js';
import type { ComponentRegistry } from './registry.js';

/** A logger that remembers warnings, to check what ignoreErrors and envRef report. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const self: Logger & { warnings: string[] } = {
    warnings,
    debug: () => {},
    info: () => {},
    warn: (message: string, _fields?: LogFields) => void warnings.push(message),
    error: () => {},
    child: () => self,
    isLevelEnabled: () => true,
  };
  return self;
}

/** A test driver that records its init and lets the test decide how init ends. */
class ProbeComponent implements Component {
  static readonly instances: ProbeComponent[] = [];
  props: MetadataProperties | undefined;
  closed = 0;

  constructor(private readonly initBehaviour: 'ok' | 'hang' | 'fail') {
    ProbeComponent.instances.push(this);
  }

  init(props: MetadataProperties, _context: ComponentContext): Promise<void> {
    this.props = props;
    if (this.initBehaviour === 'hang') return new Promise(() => {});
    if (this.initBehaviour === 'fail') return Promise.reject(new Error('backend refused the connection'));
    requireString(props, 'required');
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.closed++;
  }
}

function registryWithProbes(): ComponentRegistry {
  return builtinRegistry()
    .register({ type: 'state.probe', versions: ['v1', 'v2'], create: () => new ProbeComponent('ok') })
    .register({ type: 'state.hang', versions: ['v1'], create: () => new ProbeComponent('hang') })
    .register({ type: 'state.fail', versions: ['v1'], create: () => new ProbeComponent('fail') });
}

const doc = (name: string, type: string, extra = '', version = 'v1') =>
  `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  type: ${type}\n  version: ${version}\n${extra}`;

let dir: string;
let managers: ComponentManager[];

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-manager-'));
  managers = [];
});

afterEach(async () => {
  await Promise.all(managers.map((m) => m.closeAll()));
  await fs.rm(dir, { recursive: true, force: true });
});

interface LoadOptions {
  env?: Record<string, string>;
  appId?: string;
  namespace?: string;
  logger?: Logger;
  registry?: ComponentRegistry;
}

/** Writes each YAML text as its own file (in order) and loads the folder into a fresh manager. */
async function load(files: string[], options: LoadOptions = {}): Promise<ComponentManager> {
  await Promise.all(files.map((text, i) => fs.writeFile(path.join(dir, `c${String(i).padStart(2, '0')}.yaml`), text)));
  const manager = new ComponentManager({
    appId: options.appId ?? 'test-app',
    namespace: options.namespace ?? '',
    dataDir: path.join(dir, '.weft'),
    env: options.env ?? {},
    logger: options.logger ?? silentLogger(),
    registry: options.registry ?? registryWithProbes(),
  });
  managers.push(manager);
  await manager.loadAll((await loadResources([dir])).components);
  return manager;
}

async function loadError(files: string[], options: LoadOptions = {}): Promise<ResourceError> {
  const err: unknown = await load(files, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ResourceError);
  return err as ResourceError;
}

describe('ComponentManager', () => {
  it('fails for an unknown component type and lists the supported types of that kind', async () => {
    const err = await loadError([doc('s', 'state.nope')]);
    expect(err.file).toBe(path.join(dir, 'c00.yaml'));
    expect(err.message).toContain('unknown component type "state.nope"');
    expect(err.message).toContain('state.in-memory');
    expect(err.message).toContain('state.sqlite');
    expect(err.message).not.toContain('secretstores.local.env');
  });

  it('fails for an unknown kind, naming spec.type and listing every supported type', async () => {
    const err = await loadError([doc('s', 'widgets.thing')]);
    expect(err.field).toBe('spec.type');
    expect(err.message).toContain('widgets.thing');
    expect(err.message).toContain('secretstores.local.file');
    expect(err.message).toContain('state.in-memory');
  });

  it('fails for an unknown version and lists the supported versions', async () => {
    const err = await loadError([doc('s', 'state.probe', '', 'v9')]);
    expect(err.message).toContain('has no version "v9"');
    expect(err.message).toContain('supported versions: v1, v2');
  });

  it('resolves envRef from the injected environment, not process.env', async () => {
    const manager = await load([doc('s', 'state.probe', '  metadata:\n  - name: required\n    envRef: WEFT_TEST_ONLY_VAR\n')], {
      env: { WEFT_TEST_ONLY_VAR: 'from-injected-env' },
    });
    expect(process.env['WEFT_TEST_ONLY_VAR']).toBeUndefined();
    expect(manager.get('s')?.properties).toEqual({ required: 'from-injected-env' });
  });

  it('resolves an unset envRef to "" and warns naming the variable', async () => {
    const logger = recordingLogger();
    const err = await loadError([doc('s', 'state.probe', '  metadata:\n  - name: required\n    envRef: NOT_SET_ANYWHERE\n')], { logger });
    expect(logger.warnings.join('\n')).toContain('NOT_SET_ANYWHERE');
    // The probe requires the field, so the empty value then fails init naming the field.
    expect(err.message).toContain('metadata field "required": is required');
  });

  it('turns metadata values of any YAML type into strings', async () => {
    const manager = await load([
      doc('s', 'state.probe', '  metadata:\n  - name: required\n    value: 42\n  - name: flag\n    value: true\n  - name: obj\n    value: {a: 1}\n  - name: none\n'),
    ]);
    expect(manager.get('s')?.properties).toEqual({ required: '42', flag: 'true', obj: '{"a":1}', none: '' });
  });

  describe('secretKeyRef', () => {
    const secretsFile = () => path.join(dir, 'secrets.json');
    const fileStore = (name = 'local-secrets') =>
      doc(name, 'secretstores.local.file', `  metadata:\n  - name: secretsFile\n    value: ${JSON.stringify(secretsFile())}\n`);

    beforeEach(async () => {
      await fs.writeFile(secretsFile(), JSON.stringify({ dbPassword: 'hunter2', nested: { key: 'deep' } }));
    });

    it('resolves through the secret store named by auth.secretStore, even when declared in a later file', async () => {
      const manager = await load([
        doc('s', 'state.probe', '  metadata:\n  - name: required\n    secretKeyRef:\n      name: dbPassword\n      key: dbPassword\nauth:\n  secretStore: local-secrets\n'),
        fileStore(),
      ]);
      expect(manager.get('s')?.properties).toEqual({ required: 'hunter2' });
      // Secret stores load first so that others can read from them.
      expect(manager.list().map((c) => c.name)).toEqual(['local-secrets', 's']);
    });

    it('uses the secret name as the key when secretKeyRef.key is omitted', async () => {
      const manager = await load([
        fileStore(),
        doc('s', 'state.probe', '  metadata:\n  - name: required\n    secretKeyRef:\n      name: "nested:key"\nauth:\n  secretStore: local-secrets\n'),
      ]);
      expect(manager.get('s')?.properties).toEqual({ required: 'deep' });
    });

    it('fails naming the metadata item and auth.secretStore when auth.secretStore is missing', async () => {
      const err = await loadError([fileStore(), doc('s', 'state.probe', '  metadata:\n  - name: required\n    secretKeyRef:\n      name: dbPassword\n')]);
      expect(err.file).toBe(path.join(dir, 'c01.yaml'));
      expect(err.field).toBe('spec.metadata[0] (required).secretKeyRef');
      expect(err.message).toContain('needs auth.secretStore');
    });

    it('fails naming the secret and the store when the secret does not exist', async () => {
      const err = await loadError([
        fileStore(),
        doc('s', 'state.probe', '  metadata:\n  - name: required\n    secretKeyRef:\n      name: missing\nauth:\n  secretStore: local-secrets\n'),
      ]);
      expect(err.field).toBe('spec.metadata[0] (required).secretKeyRef');
      expect(err.message).toContain('cannot read secret "missing" from "local-secrets"');
    });

    it('fails naming secretKeyRef.key when the secret has no such key', async () => {
      const err = await loadError([
        fileStore(),
        doc('s', 'state.probe', '  metadata:\n  - name: required\n    secretKeyRef:\n      name: dbPassword\n      key: other\nauth:\n  secretStore: local-secrets\n'),
      ]);
      expect(err.field).toBe('spec.metadata[0] (required).secretKeyRef.key');
      expect(err.message).toContain('has no key "other"');
    });

    it('fails naming auth.secretStore when that store is not declared', async () => {
      const err = await loadError([
        doc('s', 'state.probe', '  metadata:\n  - name: required\n    secretKeyRef:\n      name: dbPassword\nauth:\n  secretStore: vault\n'),
      ]);
      expect(err.field).toBe('auth.secretStore');
      expect(err.message).toContain('secret store "vault" is not loaded');
    });
  });

  it('skips components whose scopes do not include this app id and loads unscoped ones', async () => {
    const manager = await load([
      doc('mine', 'state.in-memory', 'scopes:\n- other-app\n- test-app\n'),
      doc('theirs', 'state.in-memory', 'scopes:\n- other-app\n'),
      doc('everyone', 'state.in-memory', 'scopes: []\n'),
    ]);
    expect(manager.list().map((c) => c.name).sort()).toEqual(['everyone', 'mine']);
    expect(manager.stateStore('theirs')).toBeUndefined();
  });

  it('does not initialise a component scoped to another app, so its errors cannot stop start-up', async () => {
    const manager = await load([doc('broken', 'state.fail', 'scopes:\n- other-app\n'), doc('ok', 'state.in-memory')]);
    expect(manager.list().map((c) => c.name)).toEqual(['ok']);
  });

  it('skips components of another namespace when the sidecar has one', async () => {
    const files = [
      doc('here', 'state.in-memory').replace('  name: here\n', '  name: here\n  namespace: prod\n'),
      doc('there', 'state.in-memory').replace('  name: there\n', '  name: there\n  namespace: dev\n'),
    ];
    const manager = await load(files, { namespace: 'prod' });
    expect(manager.list().map((c) => c.name)).toEqual(['here']);
  });

  it('keeps starting when a component with ignoreErrors: true fails init, and warns with the reason', async () => {
    const logger = recordingLogger();
    const manager = await load([doc('broken', 'state.fail', '  ignoreErrors: true\n'), doc('ok', 'state.in-memory')], { logger });
    expect(manager.list().map((c) => c.name)).toEqual(['ok']);
    expect(manager.get('broken')).toBeUndefined();
    expect(logger.warnings.join('\n')).toMatch(/ignoreErrors: true.*broken.*backend refused the connection/s);
  });

  it('fails start-up naming the component and the driver error when init fails without ignoreErrors', async () => {
    const err = await loadError([doc('broken', 'state.fail')]);
    expect(err.file).toBe(path.join(dir, 'c00.yaml'));
    expect(err.field).toBe('component "broken"');
    expect(err.message).toContain('backend refused the connection');
  });

  it('fails a component whose init hangs past initTimeout', async () => {
    const err = await loadError([doc('slow', 'state.hang', '  initTimeout: 50ms\n')]);
    expect(err.field).toBe('component "slow"');
    expect(err.message).toContain('did not finish within 50ms (initTimeout)');
  });

  it('keeps starting past a hanging init when ignoreErrors is true', async () => {
    const manager = await load([doc('slow', 'state.hang', '  initTimeout: 20ms\n  ignoreErrors: true\n'), doc('ok', 'state.in-memory')]);
    expect(manager.list().map((c) => c.name)).toEqual(['ok']);
  });

  it('fails naming spec.initTimeout when it is not a duration', async () => {
    const err = await loadError([doc('s', 'state.in-memory', '  initTimeout: soon\n')]);
    expect(err.field).toBe('spec.initTimeout');
    expect(err.message).toContain('"soon"');
  });

  it('names the driver metadata field when state.sqlite has no connectionString', async () => {
    const err = await loadError([doc('db', 'state.sqlite')]);
    expect(err.file).toBe(path.join(dir, 'c00.yaml'));
    expect(err.message).toContain('component "db"');
    expect(err.message).toContain('metadata field "connectionString": is required');
  });

  it('names the driver metadata field when a value cannot be decoded', async () => {
    const err = await loadError([
      doc('db', 'state.sqlite', `  metadata:\n  - name: connectionString\n    value: ${JSON.stringify(path.join(dir, 'x.db'))}\n  - name: tableName\n    value: "bad name;"\n`),
    ]);
    expect(err.message).toContain('metadata field "tableName"');
  });

  it('names secretsFile when secretstores.local.file has none', async () => {
    const err = await loadError([doc('secrets', 'secretstores.local.file')]);
    expect(err.message).toContain('metadata field "secretsFile": is required');
  });

  it('closes every component once, newest first, and keeps closing when one close throws', async () => {
    const registry = builtinRegistry().register({
      type: 'state.probe',
      versions: ['v1'],
      create: () => {
        const probe = new ProbeComponent('ok');
        probe.close = async () => {
          probe.closed++;
          throw new Error('close failed');
        };
        return probe;
      },
    });
    const before = ProbeComponent.instances.length;
    const manager = await load(
      [doc('a', 'state.probe', '  metadata:\n  - name: required\n    value: x\n'), doc('b', 'state.probe', '  metadata:\n  - name: required\n    value: x\n')],
      { registry },
    );
    await manager.closeAll();
    const probes = ProbeComponent.instances.slice(before);
    expect(probes.map((p) => p.closed)).toEqual([1, 1]);
    expect(manager.list()).toEqual([]);
  });
});

describe('Sidecar.start with a custom registry', () => {
  it('rejects naming the component and initTimeout when the init of a registered driver hangs', async () => {
    await fs.writeFile(path.join(dir, 'hang.yaml'), doc('slow', 'state.hang', '  initTimeout: 30ms\n'));
    const options = resolveSidecarOptions({
      appId: 'test-app',
      httpPort: 0,
      grpcPort: 0,
      metricsPort: -1,
      dataDir: path.join(dir, '.weft'),
      resourcesPaths: [dir],
      env: {},
    });
    const err: unknown = await Sidecar.start(options, { registry: registryWithProbes(), logger: silentLogger() }).then(
      async (s) => {
        await s.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ResourceError);
    expect((err as ResourceError).message).toContain('component "slow"');
    expect((err as ResourceError).message).toContain('initTimeout');
  });
});

describe('metadata fields nothing reads', () => {
  it('warns, naming the field, when a component carries a field its driver and block never read', async () => {
    const logger = recordingLogger();
    await load(
      [doc('s', 'state.probe', '  metadata:\n    - name: required\n      value: x\n    - name: keyPrefix\n      value: none\n    - name: poolSizee\n      value: "4"\n')],
      { logger },
    );
    const about = logger.warnings.filter((w) => w.includes('has no effect'));
    expect(about).toEqual([expect.stringContaining('metadata field "poolSizee" is not supported by Weft and has no effect')]);
  });

  it('closes a component whose init timed out', async () => {
    await expect(load([doc('slow', 'state.hang', '  initTimeout: 50ms\n')])).rejects.toThrow(/initTimeout/);
    const hung = ProbeComponent.instances.at(-1);
    expect(hung?.closed).toBeGreaterThan(0);
  });
});
