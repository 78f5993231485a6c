import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addSidecarFlags, ignoredFlagWarnings, normalizeGoFlags, sidecarOptionsFromFlags } from './sidecar-flags.js';
import type { SidecarFlagValues } from './sidecar-flags.js';

function options(args: string[]) {
  const command = addSidecarFlags(new Command('sidecar').exitOverride(), { httpPort: 3500, grpcPort: 50001, metricsPort: 9090 });
  command.parse(normalizeGoFlags(args), { from: 'user' });
  const values = command.opts<SidecarFlagValues>();
  return { values, options: sidecarOptionsFromFlags(values, {}, 'x') };
}

describe('observability flags', () => {
  it('binds metrics to 127.0.0.1 and enables them unless told otherwise', () => {
    expect(options([]).options).toMatchObject({ metricsListenAddress: '127.0.0.1', enableMetrics: true });
    expect(options([]).options.enableApiLogging).toBeUndefined();
  });

  it('reads --metrics-listen-address, --enable-metrics=false and a bare --enable-api-logging as daprd does', () => {
    const { options: o, values } = options(['-metrics-listen-address', '0.0.0.0', '--enable-metrics', 'false', '--enable-api-logging']);
    expect(o).toMatchObject({ metricsListenAddress: '0.0.0.0', enableMetrics: false, enableApiLogging: true });
    expect(ignoredFlagWarnings(values)).toEqual([]);
  });
});
