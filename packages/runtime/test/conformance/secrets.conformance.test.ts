/**
 * Secrets conformance: one suite, run over HTTP against every secret store driver Weft ships
 * (`secretstores.local.env`, `secretstores.local.file` in each mode), through an in-process sidecar.
 * Each driver case states what it holds and how it answers a missing secret, and the suite checks
 * the exact Dapr bodies (dapr-api.md §1.6): `{"name":"value"}` for gets, `{"name":{"k":"v"}}` for bulk.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../../../../test/support/in-process.js';
import type { TestSidecar } from '../../../../test/support/in-process.js';

const STORE = 'secrets';

/** The JSON file every file-store case reads; one level of nesting plus an array under it. */
const SECRETS_FILE = {
  plain: 'value',
  db: { user: 'admin', password: 's3cret', replica: { host: 'r1' }, hosts: ['h1', 'h2'] },
};

/** One driver configuration the suite runs against. */
interface SecretDriverCase {
  title: string;
  /** The component's `spec` lines (type, version, metadata), given the temp directory. */
  component(dir: string): string;
  env?: Record<string, string>;
  /** Every secret a bulk get must return, exactly. */
  bulk: Record<string, Record<string, string>>;
  /** How the driver answers a name it does not hold: Dapr's env store answers `{"name":""}`. */
  missing: 'ERR_SECRET_GET' | 'empty-value';
  /**
   * Names present in the source that this configuration must not serve (partial paths of nested
   * secrets, variables outside the prefix, the sidecar's credentials): answered like a missing name.
   */
  hidden: string[];
}

function fileStore(extra: string): (dir: string) => string {
  return (dir) => `  type: secretstores.local.file
  version: v1
  metadata:
  - name: secretsFile
    value: ${JSON.stringify(path.join(dir, 'secrets.json'))}
${extra}`;
}

const flat = (sep: string): Record<string, Record<string, string>> => {
  const entries: [string, string][] = [
    ['plain', 'value'],
    [`db${sep}user`, 'admin'],
    [`db${sep}password`, 's3cret'],
    [`db${sep}replica${sep}host`, 'r1'],
    [`db${sep}hosts${sep}0`, 'h1'],
    [`db${sep}hosts${sep}1`, 'h2'],
  ];
  return Object.fromEntries(entries.map(([k, v]) => [k, { [k]: v }]));
};

const CASES: SecretDriverCase[] = [
  {
    title: 'secretstores.local.env',
    component: () => '  type: secretstores.local.env\n  version: v1\n',
    env: { PLAIN: 'value', OTHER_SECRET: 'other', APP_API_TOKEN: 'app-token', DAPR_API_TOKEN: 'dapr-token', dapr_lower: 'lower-value' },
    bulk: { PLAIN: { PLAIN: 'value' }, OTHER_SECRET: { OTHER_SECRET: 'other' } },
    missing: 'empty-value',
    hidden: ['APP_API_TOKEN', 'DAPR_API_TOKEN', 'dapr_lower'],
  },
  {
    title: 'secretstores.local.env with prefix MYAPP_',
    component: () => '  type: secretstores.local.env\n  version: v1\n  metadata:\n  - name: prefix\n    value: MYAPP_\n',
    env: { MYAPP_DB_PASSWORD: 'pw', MYAPP_: 'no-name', PLAIN: 'outside-prefix', DAPR_HTTP_PORT: '3500' },
    bulk: { DB_PASSWORD: { DB_PASSWORD: 'pw' } },
    missing: 'empty-value',
    hidden: ['PLAIN', 'MYAPP_DB_PASSWORD', 'HTTP_PORT', 'DAPR_HTTP_PORT'],
  },
  {
    title: 'secretstores.local.file (default separator, multiValued false)',
    component: fileStore(''),
    bulk: flat(':'),
    missing: 'ERR_SECRET_GET',
    hidden: ['db', 'db:replica', 'db:hosts'],
  },
  {
    title: 'secretstores.local.file (nestedSeparator ".", multiValued "false")',
    component: fileStore('  - name: nestedSeparator\n    value: "."\n  - name: multiValued\n    value: "false"\n'),
    bulk: flat('.'),
    missing: 'ERR_SECRET_GET',
    hidden: ['db', 'db:user', 'db.replica'],
  },
  {
    title: 'secretstores.local.file (multiValued "true")',
    component: fileStore('  - name: multiValued\n    value: "true"\n'),
    bulk: {
      plain: { plain: 'value' },
      db: { user: 'admin', password: 's3cret', 'replica:host': 'r1', 'hosts:0': 'h1', 'hosts:1': 'h2' },
    },
    missing: 'ERR_SECRET_GET',
    hidden: ['db:user', 'user', 'replica:host'],
  },
  {
    title: 'secretstores.local.file (multiValued "true", nestedSeparator "__")',
    component: fileStore('  - name: multiValued\n    value: "true"\n  - name: nestedSeparator\n    value: "__"\n'),
    bulk: {
      plain: { plain: 'value' },
      db: { user: 'admin', password: 's3cret', replica__host: 'r1', hosts__0: 'h1', hosts__1: 'h2' },
    },
    missing: 'ERR_SECRET_GET',
    hidden: ['db__user', 'db:user'],
  },
];

async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; contentType: string | null; body: unknown; text: string }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), body: text === '' ? undefined : (JSON.parse(text) as unknown), text };
}

describe.each(CASES)('secrets API conformance: $title', (driver) => {
  let sidecar: TestSidecar;
  let tmp: string;
  // DAPR_API_TOKEN in the sidecar's environment turns on token auth, as with daprd.
  const token = driver.env?.['DAPR_API_TOKEN'];
  const auth: Record<string, string> = token ? { 'dapr-api-token': token } : {};
  const get = (route: string) => getJson(`${sidecar.baseUrl}/v1.0/secrets/${route}`, auth);
  const secret = (name: string) => get(`${STORE}/${encodeURIComponent(name)}`);

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-secrets-conf-'));
    await fs.writeFile(path.join(tmp, 'secrets.json'), JSON.stringify(SECRETS_FILE));
    sidecar = await startTestSidecar({
      resources: [`apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${STORE}\nspec:\n${driver.component(tmp)}`],
      env: driver.env ?? {},
    });
  });

  afterAll(async () => {
    await sidecar?.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const expectMissing = (res: Awaited<ReturnType<typeof getJson>>, name: string) => {
    if (driver.missing === 'empty-value') {
      expect(res.status, name).toBe(200);
      expect(res.body, name).toEqual({ [name]: '' });
    } else {
      expect(res.status, name).toBe(500);
      expect(res.contentType).toMatch(/^application\/json/);
      expect(res.body, name).toMatchObject({ errorCode: 'ERR_SECRET_GET' });
      expect((res.body as { message: string }).message).toContain(name);
    }
  };

  it('returns 200 with the exact secret map for every secret it holds', async () => {
    for (const [name, value] of Object.entries(driver.bulk)) {
      const res = await secret(name);
      expect(res.status, name).toBe(200);
      expect(res.contentType).toMatch(/^application\/json/);
      expect(res.body, name).toEqual(value);
    }
  });

  it('returns the whole store from bulk as {"name":{"key":"value"}}, nothing more', async () => {
    const res = await get(`${STORE}/bulk`);
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^application\/json/);
    expect(res.body).toEqual(driver.bulk);
  });

  it('answers a secret it does not hold the way Dapr does', async () => {
    expectMissing(await secret('no-such-secret'), 'no-such-secret');
  });

  it('answers names it must hide like missing ones and never leaks their values', async () => {
    const served = new Set(Object.values(driver.bulk).flatMap((s) => Object.values(s)));
    const hiddenValues = Object.values(driver.env ?? {}).filter((v) => !served.has(v));
    for (const name of driver.hidden) {
      const res = await secret(name);
      expectMissing(res, name);
      for (const value of hiddenValues) expect(res.text, name).not.toContain(value);
    }
  });

  it('returns 401 ERR_SECRET_STORE_NOT_FOUND for a store that is not declared', async () => {
    for (const route of ['nope/plain', 'nope/bulk']) {
      const res = await get(route);
      expect(res.status, route).toBe(401);
      expect(res.contentType).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ errorCode: 'ERR_SECRET_STORE_NOT_FOUND' });
    }
  });
});

describe('secretstores.local.file specifics', () => {
  let sidecar: TestSidecar;
  let tmp: string;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-secrets-file-'));
    await fs.writeFile(path.join(tmp, 'secrets.json'), JSON.stringify(SECRETS_FILE));
    const component = (name: string, extra: string) =>
      `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n${fileStore(extra)(tmp)}`;
    sidecar = await startTestSidecar({
      resources: [component('flat', ''), component('multi', '  - name: multiValued\n    value: "true"\n')],
    });
  });

  afterAll(async () => {
    await sidecar?.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('reads a nested key a:b by its flattened name, with or without percent-encoding the colon', async () => {
    for (const spelled of ['db:user', 'db%3Auser']) {
      const res = await getJson(`${sidecar.baseUrl}/v1.0/secrets/flat/${spelled}`);
      expect(res.status, spelled).toBe(200);
      expect(res.body).toEqual({ 'db:user': 'admin' });
    }
  });

  it('returns the nested map of a top-level key when multiValued is "true"', async () => {
    const res = await getJson(`${sidecar.baseUrl}/v1.0/secrets/multi/db`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: 'admin', password: 's3cret', 'replica:host': 'r1', 'hosts:0': 'h1', 'hosts:1': 'h2' });
  });

  it('reports MULTIPLE_KEY_VALUES_PER_SECRET only for the multi-valued store in the metadata API', async () => {
    const res = await getJson(`${sidecar.baseUrl}/v1.0/metadata`);
    const components = (res.body as { components: { name: string; capabilities?: string[] }[] }).components;
    expect(components.find((c) => c.name === 'multi')?.capabilities).toEqual(['MULTIPLE_KEY_VALUES_PER_SECRET']);
    expect(components.find((c) => c.name === 'flat')?.capabilities ?? []).toEqual([]);
  });
});

describe('secretstores.local.env never exposes the sidecar credentials', () => {
  let sidecar: TestSidecar;
  const AUTH = { 'dapr-api-token': 'dapr-token-value' };

  beforeAll(async () => {
    sidecar = await startTestSidecar({
      resources: ['apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: env\nspec:\n  type: secretstores.local.env\n  version: v1\n'],
      env: { APP_API_TOKEN: 'app-token-value', DAPR_API_TOKEN: 'dapr-token-value', Dapr_Mixed: 'mixed-value', VISIBLE: 'ok' },
    });
  });

  afterAll(async () => {
    await sidecar?.stop();
  });

  it('answers a get of APP_API_TOKEN or any DAPR_* variable with an empty value, never the real one', async () => {
    for (const name of ['APP_API_TOKEN', 'DAPR_API_TOKEN', 'Dapr_Mixed', 'app_api_token']) {
      const res = await fetch(`${sidecar.baseUrl}/v1.0/secrets/env/${name}`, { headers: AUTH });
      const text = await res.text();
      expect(res.status, name).toBe(200);
      expect(JSON.parse(text), name).toEqual({ [name]: '' });
      expect(text).not.toMatch(/token-value|mixed-value/);
    }
  });

  it('leaves APP_API_TOKEN and DAPR_* out of a bulk get', async () => {
    const res = await fetch(`${sidecar.baseUrl}/v1.0/secrets/env/bulk`, { headers: AUTH });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(JSON.parse(text)).toEqual({ VISIBLE: { VISIBLE: 'ok' } });
    expect(text).not.toMatch(/token-value|mixed-value/);
  });
});

describe('secrets API without secret stores', () => {
  let sidecar: TestSidecar;

  beforeAll(async () => {
    sidecar = await startTestSidecar({
      resources: ['apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  type: state.in-memory\n  version: v1\n'],
    });
  });

  afterAll(async () => {
    await sidecar?.stop();
  });

  it('returns 500 ERR_SECRET_STORES_NOT_CONFIGURED for a get and a bulk get', async () => {
    for (const url of [`${sidecar.baseUrl}/v1.0/secrets/any/key`, `${sidecar.baseUrl}/v1.0/secrets/any/bulk`]) {
      const res = await getJson(url);
      expect(res.status, url).toBe(500);
      expect(res.contentType).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ errorCode: 'ERR_SECRET_STORES_NOT_CONFIGURED' });
    }
  });
});
