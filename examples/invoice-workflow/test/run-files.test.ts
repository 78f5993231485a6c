/**
 * The three run files (embedded, Postgres, Dapr) start the same five apps with the same commands and
 * ports, read the way `weft run -f` reads them; only their components differ.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRunFile, resolveRunFilePath } from '../../../packages/cli/src/runfile/run-file.js';
import { EXAMPLE_DIR } from './stack.js';

const APPS = ['workflow-app', 'upload-service', 'split-service', 'extract-service', 'aggregate-service'];

describe('the run files', () => {
  it('resolve `weft run -f examples/invoice-workflow` to weft.yaml', () => {
    expect(resolveRunFilePath(EXAMPLE_DIR)).toBe(path.join(EXAMPLE_DIR, 'weft.yaml'));
  });

  it('start the same apps everywhere, with the components of each backend', () => {
    const shape = (file: string) =>
      loadRunFile(path.join(EXAMPLE_DIR, file)).apps.map((a) => ({ appId: a.appId, appPort: a.appPort, command: a.command, appDirPath: a.appDirPath }));
    const embedded = shape('weft.yaml');
    expect(embedded.map((a) => a.appId)).toEqual(APPS);
    expect(embedded.every((a) => a.appDirPath === EXAMPLE_DIR)).toBe(true);
    expect(embedded.find((a) => a.appId === 'workflow-app')?.appPort).toBe(8080);
    expect(shape('weft.postgres.yaml')).toEqual(embedded);
    expect(shape('dapr.yaml')).toEqual(embedded);
    expect(loadRunFile(path.join(EXAMPLE_DIR, 'weft.yaml')).apps.every((a) => a.resourcesPaths.length === 0)).toBe(true);
    // The embedded run opens the dashboard beside the apps; Dapr's CLI would refuse the key.
    expect(loadRunFile(path.join(EXAMPLE_DIR, 'weft.yaml')).dashboard).toEqual({});
    expect(loadRunFile(path.join(EXAMPLE_DIR, 'dapr.yaml')).dashboard).toBeUndefined();
    expect(loadRunFile(path.join(EXAMPLE_DIR, 'weft.postgres.yaml')).apps[0]?.resourcesPaths).toEqual([path.join(EXAMPLE_DIR, 'components/postgres')]);
    expect(loadRunFile(path.join(EXAMPLE_DIR, 'dapr.yaml')).apps[0]?.resourcesPaths).toEqual([path.join(EXAMPLE_DIR, 'components/redis')]);
  });
});
