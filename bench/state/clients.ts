/**
 * The two ways a worker reaches a store: through Weft's HTTP state API with a keep-alive undici
 * Pool (what an app talking to its sidecar does), or through the store's own client library.
 */
import { Pool } from 'undici';

/** Saves and reads one fixed value under many keys; throws on any unexpected answer. */
export interface StateClient {
  save(key: string): Promise<void>;
  get(key: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The stored value: a JSON string of exactly `bytes` bytes including its quotes, so Weft stores
 * the same bytes the raw client writes (Weft stores a JSON value as its JSON text).
 */
export function valueJson(bytes: number): string {
  return JSON.stringify('v'.repeat(Math.max(0, bytes - 2)));
}

/** A Weft sidecar's state API at `http://127.0.0.1:<port>`, `connections` keep-alive sockets. */
export function weftClient(httpPort: number, storeName: string, valueBytes: number, connections: number): StateClient {
  const pool = new Pool(`http://127.0.0.1:${httpPort}`, { connections, pipelining: 1 });
  const value = valueJson(valueBytes);
  const savePath = `/v1.0/state/${storeName}`;
  const getPath = `/v1.0/state/${storeName}/`;
  const headers = { 'content-type': 'application/json' };
  return {
    async save(key) {
      const res = await pool.request({
        method: 'POST',
        path: savePath,
        headers,
        body: `[{"key":"${key}","value":${value}}]`,
      });
      const text = await res.body.text();
      if (res.statusCode !== 204) throw new Error(`save answered ${res.statusCode}: ${text}`);
    },
    async get(key) {
      const res = await pool.request({ method: 'GET', path: getPath + key });
      const body = Buffer.from(await res.body.arrayBuffer());
      if (res.statusCode !== 200) throw new Error(`get answered ${res.statusCode}: ${body.toString()}`);
      if (body.length !== valueBytes) throw new Error(`get returned ${body.length} bytes, expected ${valueBytes}`);
    },
    close: () => pool.close(),
  };
}
