import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunFileError, parseRunFile } from './run-file.js';
import { childArgs } from './supervisor.js';

const FILE = '/work/proj/weft.yaml';

describe('run file', () => {
  it('resolves common paths against the file and app paths against appDirPath', () => {
    const run = parseRunFile(
      FILE,
      `version: 1
common:
  resourcesPaths: [./components]
  configFilePath: ./config.yaml
  env: {DEBUG: "true", PORT: "1"}
apps:
- appID: web
  appDirPath: ./webapp/
  appPort: 8080
  command: ["node", "app.js"]
  env: {PORT: "8080"}
- appDirPath: /abs/worker
  resourcesPaths: [./res]
  configFilePath: cfg.yaml
  daprHTTPPort: 3600
  maxBodySize: 20Mi
`,
      () => false,
    );
    const [web, worker] = run.apps;
    expect(web).toMatchObject({
      appId: 'web',
      appDirPath: '/work/proj/webapp',
      appPort: 8080,
      command: ['node', 'app.js'],
      env: { DEBUG: 'true', PORT: '8080' },
      resourcesPaths: ['/work/proj/components'],
      configFilePath: '/work/proj/config.yaml',
    });
    expect(worker).toMatchObject({
      appId: 'worker',
      resourcesPaths: ['/abs/worker/res'],
      configFilePath: '/abs/worker/cfg.yaml',
      daprHTTPPort: 3600,
      maxBodySize: '20Mi',
    });
  });

  it('prefers <appDirPath>/.dapr/resources and .dapr/config.yaml over common when they exist', () => {
    const run = parseRunFile(
      FILE,
      'common: {resourcesPaths: [./c], configFilePath: ./c.yaml}\napps: [{appDirPath: ./a}]\n',
      (p) => p.startsWith(path.join('/work/proj/a/.dapr')),
    );
    expect(run.apps[0]).toMatchObject({ resourcesPaths: ['/work/proj/a/.dapr/resources'], configFilePath: '/work/proj/a/.dapr/config.yaml' });
  });

  it('sends sidecar lines to the file and app lines to both by default, as Dapr does', () => {
    const run = parseRunFile(FILE, 'common: {daprdLogDestination: fileAndConsole}\napps: [{appDirPath: ./a}, {appDirPath: ./b, appLogDestination: file}]', () => false);
    expect(run.apps.map((a) => [a.daprdLogDestination, a.appLogDestination])).toEqual([
      ['fileAndConsole', 'fileAndConsole'],
      ['fileAndConsole', 'file'],
    ]);
    expect(parseRunFile(FILE, 'apps: [{appDirPath: ./a}]', () => false).apps[0]?.daprdLogDestination).toBe('file');
    expect(() => parseRunFile(FILE, 'apps: [{appDirPath: ./a, appLogDestination: syslog}]', () => false)).toThrow(/appLogDestination/);
  });

  it('refuses unknown keys, a missing appDirPath and duplicate app ids, naming the key', () => {
    expect(() => parseRunFile(FILE, 'apps: [{appDirPath: ./a, appPrt: 1}]', () => false)).toThrow(/apps\[0\]\.appPrt: unknown key/);
    expect(() => parseRunFile(FILE, 'apps: [{appID: x}]', () => false)).toThrow(RunFileError);
    expect(() => parseRunFile(FILE, 'apps: [{appDirPath: ./x}, {appDirPath: ./y, appID: x}]', () => false)).toThrow(/duplicate app id "x"/);
  });

  it('turns an app into weft run flags with free ports by default and the command after --', () => {
    const [app] = parseRunFile(FILE, 'apps: [{appID: w, appDirPath: ./w, appPort: 9, command: [node, s.js], enableAppHealthCheck: true}]', () => false).apps;
    const args = childArgs(app as never);
    expect(args.slice(0, 5)).toEqual(['run', '--app-id', 'w', '--app-port', '9']);
    expect(args).toEqual(expect.arrayContaining(['--dapr-http-port', '0', '--enable-app-health-check', '--data-dir', '/work/proj/w/.weft']));
    expect(args.slice(-3)).toEqual(['--', 'node', 's.js']);
  });
  it("passes Weft's mTLS keys to each app's weft run: the CA from common, certificate and key per app", () => {
    const run = parseRunFile(
      FILE,
      `version: 1
common:
  enableMtls: true
  tlsCaFile: ./pki/ca.crt
apps:
- appID: web
  appDirPath: ./web
  tlsCertFile: web.crt
  tlsKeyFile: /keys/web.key
`,
      () => false,
    );
    const [web] = run.apps;
    expect(web).toMatchObject({ enableMtls: true, tlsCaFile: '/work/proj/pki/ca.crt', tlsCertFile: '/work/proj/web/web.crt', tlsKeyFile: '/keys/web.key' });
    const args = childArgs(web as NonNullable<typeof web>);
    expect(args).toContain('--enable-mtls=true');
    expect(args.join(' ')).toContain('--tls-cert-file /work/proj/web/web.crt --tls-key-file /keys/web.key --tls-ca-file /work/proj/pki/ca.crt');
  });

  it('refuses a per-app certificate in common, where it would name every app', () => {
    expect(() => parseRunFile(FILE, `version: 1\ncommon:\n  tlsCertFile: a.crt\napps:\n- appDirPath: ./a\n`, () => false)).toThrow(/common\.tlsCertFile: unknown key/);
  });

  it("reads Weft's dashboard key: true, or a port and host, and refuses anything else", () => {
    const apps = 'apps: [{appDirPath: ./a}]';
    expect(parseRunFile(FILE, apps, () => false).dashboard).toBeUndefined();
    expect(parseRunFile(FILE, `dashboard: false\n${apps}`, () => false).dashboard).toBeUndefined();
    expect(parseRunFile(FILE, `dashboard: true\n${apps}`, () => false).dashboard).toEqual({});
    expect(parseRunFile(FILE, `dashboard: {port: 9100, host: 127.0.0.1}\n${apps}`, () => false).dashboard).toEqual({ port: 9100, host: '127.0.0.1' });
    expect(() => parseRunFile(FILE, `dashboard: {prt: 1}\n${apps}`, () => false)).toThrow(/dashboard\.prt: unknown key/);
    expect(() => parseRunFile(FILE, `dashboard: [1]\n${apps}`, () => false)).toThrow(/dashboard: must be/);
  });
});

describe('run file keys: implemented, warned about, or refused', () => {
  it('passes enableApiLogging and apiListenAddresses from common to every sidecar', () => {
    const run = parseRunFile(
      FILE,
      `version: 1
common:
  enableApiLogging: true
  apiListenAddresses: 0.0.0.0
apps:
- appDirPath: ./a
  command: ["node", "a.js"]
`,
      () => false,
    );
    const args = childArgs(run.apps[0]!);
    expect(args).toContain('--enable-api-logging=true');
    expect(args.join(' ')).toContain('--dapr-listen-addresses 0.0.0.0');
  });

  it('warns about control-plane keys and refuses keys Weft does not implement, naming them', () => {
    const run = parseRunFile(FILE, `version: 1\ncommon:\n  placementHostAddress: localhost:50005\napps:\n- appDirPath: ./a\n`, () => false);
    expect(run.warnings).toEqual([expect.stringMatching(/common\.placementHostAddress has no effect: Weft needs no placement service/)]);
    expect(() => parseRunFile(FILE, `version: 1\napps:\n- appDirPath: ./a\n  appMaxConcurrency: 1\n`, () => false)).toThrow(
      /apps\[0\]\.appMaxConcurrency: is not supported by Weft/,
    );
  });
});
