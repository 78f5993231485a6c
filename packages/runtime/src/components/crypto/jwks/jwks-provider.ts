/**
 * `crypto.dapr.jwks`: keys from a JSON Web Key Set, looked up by `kid`. Metadata `jwks` holds the set
 * itself (JSON, optionally base64), a path to a file holding it, or an http(s) URL serving it; a URL
 * is fetched at init (which fails if it cannot be) and refreshed every `minRefreshInterval`.
 */
import fs from 'node:fs/promises';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { MetadataError, readDurationMs, requireString } from '../../metadata.js';
import type { Logger } from '../../../logging/logger.js';
import { keyFromJwk } from '../keys.js';
import type { StoredKey } from '../keys.js';
import { LocalCryptoProvider } from '../local-provider.js';
import { KeyNotFoundError } from '../provider.js';

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_MIN_REFRESH_MS = 10 * 60_000;

/** Parses a JWKS (`{"keys":[…]}`) or a single JWK into keys by `kid`; keys without a kid are unreachable. */
export function parseJwks(text: string): Map<string, StoredKey> {
  const json = JSON.parse(text) as unknown;
  if (typeof json !== 'object' || json === null) throw new Error('not a JSON object');
  const list = Array.isArray((json as { keys?: unknown }).keys) ? ((json as { keys: unknown[] }).keys) : [json];
  const keys = new Map<string, StoredKey>();
  for (const entry of list) {
    if (typeof entry !== 'object' || entry === null) throw new Error('a key in the set is not a JSON object');
    const key = keyFromJwk(entry as Record<string, unknown>);
    if (key.kid !== undefined && !keys.has(key.kid)) keys.set(key.kid, key);
  }
  return keys;
}

/** Keys from a JWKS. */
export class JwksCryptoProvider extends LocalCryptoProvider {
  private keys = new Map<string, StoredKey>();
  private timer: NodeJS.Timeout | undefined;
  private logger: Logger | undefined;

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    this.logger = context.logger;
    const location = requireString(props, 'jwks');
    const requestTimeoutMs = readDurationMs(props, 'requestTimeout', DEFAULT_REQUEST_TIMEOUT_MS);
    const minRefreshMs = Math.max(readDurationMs(props, 'minRefreshInterval', DEFAULT_MIN_REFRESH_MS), 1000);
    if (/^https?:\/\//.test(location)) {
      if (location.startsWith('http://')) context.logger.warn('Loading JWK from an HTTP endpoint without TLS: this is not recommended on production environments.');
      this.keys = await this.fetchJwks(location, requestTimeoutMs);
      this.timer = setInterval(() => {
        this.fetchJwks(location, requestTimeoutMs).then(
          (keys) => {
            this.keys = keys;
          },
          (err: unknown) => this.logger?.warn(`Error while refreshing JWKS cache: ${(err as Error).message}`),
        );
      }, minRefreshMs);
      this.timer.unref();
      return;
    }
    const file = await fs.stat(location).then((s) => s.isFile(), () => false);
    if (file) {
      try {
        this.keys = parseJwks(await fs.readFile(location, 'utf8'));
      } catch (err) {
        throw new MetadataError('jwks', `failed to read JWKS from file ${location}: ${(err as Error).message}`);
      }
      return;
    }
    const trimmed = location.replace(/=+$/, '');
    const text = /^[A-Za-z0-9+/]+$/.test(trimmed) && trimmed.length % 4 !== 1 ? Buffer.from(trimmed, 'base64').toString('utf8') : location;
    try {
      this.keys = parseJwks(text);
    } catch {
      throw new MetadataError('jwks', 'failed to parse property: not a URL, path to local file, or JSON value (optionally base64-encoded)');
    }
  }

  protected async retrieveKey(keyName: string): Promise<StoredKey> {
    const key = this.keys.get(keyName);
    if (!key) throw new KeyNotFoundError();
    return key;
  }

  override async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async fetchJwks(url: string, timeoutMs: number): Promise<Map<string, StoredKey>> {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`failed to fetch JWKS from ${url}: HTTP ${res.status}`);
    return parseJwks(await res.text());
  }
}
