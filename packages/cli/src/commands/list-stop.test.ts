import { describe, expect, it } from 'vitest';
import type { RegistryEntry } from '@weft/runtime';
import { humanAge, renderTable, toRow } from './list.js';
import { stopTargets } from './stop.js';

const entry = (appId: string, pid: number, extra: Record<string, string> = {}): RegistryEntry => ({
  appId,
  namespace: '',
  host: '127.0.0.1',
  internalPort: 1,
  httpPort: 3500,
  grpcPort: 50001,
  appPort: 8080,
  pid,
  extra,
  created: '2026-01-01T00:00:00.000Z',
});

describe('weft list and stop', () => {
  it('renders registry entries with dapr list keys', () => {
    const row = toRow(entry('web', 10, { appPid: '11', command: 'node app.js', cliPid: '10' }), Date.parse('2026-01-01T00:02:00Z'));
    expect(row).toMatchObject({ appId: 'web', httpPort: 3500, appPort: 8080, daprdPid: 10, cliPid: 10, appPid: 11, age: '2m', created: '2026-01-01 00:00:00' });
    expect(renderTable([row]).split('\n')[0]).toMatch(/^APP ID\s+HTTP PORT/);
    expect([humanAge(5_000), humanAge(7_200_000), humanAge(172_800_000)]).toEqual(['5s', '2h', '2d']);
  });

  it('signals the sidecar process for --app-id and the supervisor for -f', () => {
    const entries = [entry('a', 10, { runTemplatePath: '/p/weft.yaml', runnerPid: '5' }), entry('b', 20, { runTemplatePath: '/p/weft.yaml', runnerPid: '5' }), entry('c', 30)];
    expect(stopTargets(entries, { appId: 'b' })).toEqual({ signal: [20], wait: [20] });
    expect(stopTargets(entries, { runFile: '/p/weft.yaml' })).toEqual({ signal: [5], wait: [10, 20] });
    expect(stopTargets(entries, { appId: 'zzz' })).toEqual({ signal: [], wait: [] });
  });
});
