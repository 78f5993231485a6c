/**
 * A real `weft sidecar` process in a temp directory and a `@dapr/dapr` `DaprServer` app beside it, in
 * HTTP or gRPC mode: the set-up every compatibility test of app callbacks (pub/sub, bindings, jobs)
 * starts from. The test registers its handlers on `server`, then calls `server.start()`.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CommunicationProtocolEnum, DaprServer } from '@dapr/dapr';
import type { LoggerOptions } from '@dapr/dapr';
import { freePort, startWeftSidecar } from '../../support/weft-process.js';
import type { WeftProcess } from '../../support/weft-process.js';

/** What to start. */
export interface SdkServerAppOptions {
  mode: 'http' | 'grpc';
  appId: string;
  /** Resource YAML, written to a resources directory; the embedded defaults when absent. */
  resources?: string;
  env?: NodeJS.ProcessEnv;
  /** The SDK's logging, for the server and its client. */
  logger?: LoggerOptions;
}

/** The running sidecar and (not yet started) app server. */
export interface SdkServerApp {
  weft: WeftProcess;
  server: DaprServer;
  stop(): Promise<void>;
}

/** Starts the sidecar and builds the `DaprServer` that talks to it. */
export async function startSdkServerApp(options: SdkServerAppOptions): Promise<SdkServerApp> {
  const grpc = options.mode === 'grpc';
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `weft-compat-${options.appId}-`));
  const args = ['--app-id', options.appId, '--log-level', 'warn', ...(grpc ? ['--app-protocol', 'grpc'] : [])];
  if (options.resources !== undefined) {
    await fs.mkdir(path.join(dir, 'resources'));
    await fs.writeFile(path.join(dir, 'resources', 'resources.yaml'), options.resources);
    args.push('--resources-path', path.join(dir, 'resources'));
  }
  const appPort = await freePort();
  const weft = await startWeftSidecar([...args, '--app-port', String(appPort)], { cwd: dir, ...(options.env ? { env: options.env } : {}) });
  const protocol = grpc ? CommunicationProtocolEnum.GRPC : CommunicationProtocolEnum.HTTP;
  const logger = options.logger ? { logger: options.logger } : {};
  const server = new DaprServer({
    serverHost: '127.0.0.1',
    serverPort: String(appPort),
    communicationProtocol: protocol,
    clientOptions: { daprHost: '127.0.0.1', daprPort: String(grpc ? weft.grpcPort : weft.httpPort), communicationProtocol: protocol, ...logger },
    ...logger,
  });
  return {
    weft,
    server,
    stop: async () => {
      if (grpc) {
        // The sidecar first: its app channel holds HTTP/2 connections the app server would wait on.
        await weft.stop();
        await server.stop().catch(() => undefined);
      } else {
        await server.stop().catch(() => undefined);
        await weft.stop();
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
