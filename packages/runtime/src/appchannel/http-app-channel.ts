/**
 * The HTTP app channel on an undici keep-alive pool. Adds `dapr-api-token` when `APP_API_TOKEN` is
 * configured, as daprd does on every call toward the app.
 */
import type { Dispatcher, Pool } from 'undici';
import { undici } from '../util/load-undici.js';
import type { AppChannel, AppRequest, AppResponse, AppStreamResponse } from './app-channel.js';
import { AppUnreachableError } from './app-channel.js';

/** Options of {@link HttpAppChannel}. */
export interface HttpAppChannelOptions {
  /** `http` or `https`. @default 'http' */
  protocol?: 'http' | 'https';
  host: string;
  port: number;
  /** `APP_API_TOKEN`, sent as `dapr-api-token`. */
  appApiToken?: string;
  /** Concurrent connections to the app. @default 128 */
  connections?: number;
  /** Told about every call once the app's response headers arrive (or the call failed: status 0). */
  observer?: (call: { method: string; path: string; status: number; durationMs: number }) => void;
}

/** An HTTP/1.1 channel to the app. */
export class HttpAppChannel implements AppChannel {
  /** Built at the first call, so undici loads after the sidecar reports ready (`util/load-undici.ts`). */
  private pool: Pool | undefined;
  readonly origin: string;

  constructor(private readonly options: HttpAppChannelOptions) {
    this.origin = `${options.protocol ?? 'http'}://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
  }

  private connections(): Pool {
    this.pool ??= new (undici().Pool)(this.origin, {
      connections: this.options.connections ?? 128,
      keepAliveTimeout: 30_000,
      // The app decides how long it takes; resiliency policies bound it from outside.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    return this.pool;
  }

  async call(request: AppRequest): Promise<AppResponse> {
    const response = await this.send(request);
    const body = Buffer.from(await response.body.arrayBuffer());
    return { status: response.statusCode, headers: response.headers as AppResponse['headers'], body };
  }

  async stream(request: AppRequest): Promise<AppStreamResponse> {
    const response = await this.send(request);
    return { status: response.statusCode, headers: response.headers as AppResponse['headers'], body: response.body };
  }

  private async send(request: AppRequest): Promise<Dispatcher.ResponseData> {
    // The caller's headers go out as they are (undici does not change them); a copy only to add the token.
    const token = this.options.appApiToken;
    const headers = token ? { ...request.headers, 'dapr-api-token': token } : request.headers;
    const path = request.query ? `${request.path}?${request.query}` : request.path;
    const observer = this.options.observer;
    const started = observer ? performance.now() : 0;
    const observe = (status: number) => observer?.({ method: request.method, path: request.path, status, durationMs: performance.now() - started });
    try {
      const options: Dispatcher.RequestOptions = { method: request.method as Dispatcher.HttpMethod, path, headers, body: request.body ?? null };
      if (request.signal) options.signal = request.signal;
      const response = await this.connections().request(options);
      observe(response.statusCode);
      return response;
    } catch (err) {
      observe(0);
      if (err instanceof undici().errors.UndiciError || (err as NodeJS.ErrnoException).code !== undefined || (err as Error).name === 'AbortError') {
        throw new AppUnreachableError(`app at ${this.origin} is unreachable: ${(err as Error).message}`, { cause: err });
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
