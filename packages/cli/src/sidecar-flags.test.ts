import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addSidecarFlags, ignoredFlagWarnings, normalizeGoFlags, sidecarOptionsFromFlags } from './sidecar-flags.js';
import type { SidecarFlagValues } from './sidecar-flags.js';

function parse(args: string[]): SidecarFlagValues {
  const command = addSidecarFlags(new Command('sidecar').exitOverride(), { httpPort: 3500, grpcPort: 50001, metricsPort: 9090 });
  command.parse(normalizeGoFlags(args), { from: 'user' });
  return command.opts<SidecarFlagValues>();
}

describe('daprd flag compatibility', () => {
  it('accepts single-dash Go-style long flags as daprd scripts write them', () => {
    expect(normalizeGoFlags(['-app-id', 'a', '-config', 'c.yaml', '--', '-not-a-flag'])).toEqual([
      '--app-id',
      'a',
      '--config',
      'c.yaml',
      '--',
      '-not-a-flag',
    ]);
  });

  it("uses daprd's default ports and a 4 MB body limit when no flag is given", () => {
    const options = sidecarOptionsFromFlags(parse(['--app-id', 'orders']), {}, 'fallback');
    expect(options).toMatchObject({ appId: 'orders', httpPort: 3500, grpcPort: 50001, metricsPort: 9090, maxRequestBodyBytes: 4 * 1024 * 1024 });
    expect(options.resourcesPaths).toEqual([]);
  });

  it('collects repeated and comma-separated resources paths, components-path included', () => {
    const options = sidecarOptionsFromFlags(
      parse(['--resources-path', './a', '--resources-path', './b,./c', '--components-path', './d']),
      {},
      'x',
    );
    expect(options.resourcesPaths).toEqual(['./a', './b', './c', './d']);
  });

  it('reads --dapr-http-max-request-size in MB and lets --max-body-size override it', () => {
    expect(sidecarOptionsFromFlags(parse(['--dapr-http-max-request-size', '20']), {}, 'x').maxRequestBodyBytes).toBe(20 * 1024 * 1024);
    expect(sidecarOptionsFromFlags(parse(['--dapr-http-max-request-size', '20', '--max-body-size', '1Mi']), {}, 'x').maxRequestBodyBytes).toBe(1024 * 1024);
  });

  it('takes the API tokens from DAPR_API_TOKEN and APP_API_TOKEN', () => {
    const options = sidecarOptionsFromFlags(parse([]), { DAPR_API_TOKEN: 't1', APP_API_TOKEN: 't2' }, 'x');
    expect(options.apiToken).toBe('t1');
    expect(options.appApiToken).toBe('t2');
  });

  it('accepts control-plane flags with a warning that says why they are ignored', () => {
    const values = parse(['--placement-host-address', 'localhost:50005', '--sentry-address', 'localhost:50001', '--app-id', 'x']);
    const warnings = ignoredFlagWarnings(values);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/--placement-host-address .*ignored: Weft needs no placement service/);
    expect(warnings[1]).toMatch(/--sentry-address .*ignored: Weft has no Sentry; with --enable-mtls give the certificates yourself/);
  });

  it('turns mTLS on with --enable-mtls and the DAPR_* PEM variables, as daprd takes them', () => {
    const env = { DAPR_CERT_CHAIN: 'chain', DAPR_CERT_KEY: 'key', DAPR_TRUST_ANCHORS: 'anchors' };
    expect(sidecarOptionsFromFlags(parse(['--enable-mtls']), env, 'x').mtls).toEqual({
      certChain: { env: 'DAPR_CERT_CHAIN', pem: 'chain' },
      key: { env: 'DAPR_CERT_KEY', pem: 'key' },
      trustAnchors: { env: 'DAPR_TRUST_ANCHORS', pem: 'anchors' },
    });
    // The variables alone do not turn it on (daprd needs --enable-mtls too).
    expect(sidecarOptionsFromFlags(parse([]), env, 'x').mtls).toBeUndefined();
    expect(sidecarOptionsFromFlags(parse(['-enable-mtls=false']), env, 'x').mtls).toBeUndefined();
  });

  it('rejects an app protocol daprd does not know', () => {
    expect(() => parse(['--app-protocol', 'ftp'])).toThrow(/Allowed choices are http, https, grpc, grpcs, h2c/);
  });
});

describe('--mode kubernetes', () => {
  it("takes daprd's injected defaults: internal port 50002, public health port 3501, the pod's namespace", () => {
    const options = sidecarOptionsFromFlags(parse(['--mode', 'kubernetes', '--app-id', 'orders']), { NAMESPACE: 'shop' }, 'x');
    expect(options).toMatchObject({ mode: 'kubernetes', internalPort: 50002, publicPort: 3501, publicListenAddress: '0.0.0.0', namespace: 'shop' });
    // The APIs stay on loopback, as under Dapr's injector: only the app in the pod calls them.
    expect(options.listenAddresses).toEqual(['127.0.0.1']);
  });

  it('lets explicit flags win over the Kubernetes defaults', () => {
    const options = sidecarOptionsFromFlags(
      parse(['--mode', 'kubernetes', '--dapr-internal-grpc-port', '6002', '--dapr-public-port', '6001', '--dapr-public-listen-address', '10.0.0.5']),
      { NAMESPACE: 'shop' },
      'x',
    );
    expect(options).toMatchObject({ internalPort: 6002, publicPort: 6001, publicListenAddress: '10.0.0.5' });
  });

  it('changes nothing in standalone mode (the default): free internal port, no public port', () => {
    const options = sidecarOptionsFromFlags(parse(['--app-id', 'orders']), {}, 'x');
    expect(options.mode).toBe('standalone');
    expect(options.internalPort).toBeUndefined();
    expect(options.publicPort).toBeUndefined();
    expect(options.namespace).toBe('');
  });

  it('no longer warns that --mode is ignored, and refuses an unknown mode', () => {
    expect(ignoredFlagWarnings(parse(['--mode', 'kubernetes']))).toEqual([]);
    expect(() => parse(['--mode', 'swarm'])).toThrow();
  });

  it('serves the public port outside Kubernetes mode when asked', () => {
    expect(sidecarOptionsFromFlags(parse(['--dapr-public-port', '3501']), {}, 'x').publicPort).toBe(3501);
  });
});
