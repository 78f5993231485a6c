/**
 * Non-Dapr targets of service invocation: `HTTPEndpoint` resources (`spec.baseUrl`, `spec.headers`)
 * and full `http(s)://` URLs given in place of an app id. Calls to them go straight from the caller's
 * sidecar, with no callee sidecar.
 */
import type { LoadedDocument } from '../resources/loader.js';
import { ResourceError } from '../resources/loader.js';

/** Where an external call goes. */
export interface ExternalTarget {
  /** `scheme://host[:port]`. */
  origin: string;
  /** Path prefix from the base URL, without a trailing `/` ('' for none). */
  basePath: string;
  /** Headers the endpoint adds to every call. */
  headers: Record<string, string>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseBase(url: string): Omit<ExternalTarget, 'headers'> | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  return { origin: parsed.origin, basePath: parsed.pathname.replace(/\/+$/, '') };
}

/** The HTTPEndpoint resources of this sidecar. */
export class HttpEndpoints {
  private readonly endpoints = new Map<string, ExternalTarget>();

  /** Reads `kind: HTTPEndpoint` documents; headers with `secretKeyRef` are not supported yet and fail start-up. */
  constructor(docs: readonly LoadedDocument[] = [], appId = '') {
    for (const { file, doc } of docs) {
      const metadata = isRecord(doc['metadata']) ? doc['metadata'] : {};
      const name = metadata['name'];
      if (typeof name !== 'string' || name === '') throw new ResourceError(file, 'metadata.name', 'is required');
      const scopes = doc['scopes'];
      if (Array.isArray(scopes) && scopes.length > 0 && !scopes.includes(appId)) continue;
      const spec = isRecord(doc['spec']) ? doc['spec'] : {};
      const base = typeof spec['baseUrl'] === 'string' ? parseBase(spec['baseUrl']) : undefined;
      if (!base) throw new ResourceError(file, 'spec.baseUrl', 'is required and must be an http(s) URL');
      const headers: Record<string, string> = {};
      const rawHeaders = spec['headers'] ?? [];
      if (!Array.isArray(rawHeaders)) throw new ResourceError(file, 'spec.headers', 'must be a list');
      for (const [i, h] of rawHeaders.entries()) {
        if (!isRecord(h) || typeof h['name'] !== 'string') throw new ResourceError(file, `spec.headers[${i}].name`, 'is required');
        const value = isRecord(h['value']) ? undefined : h['value'];
        if (value === undefined) throw new ResourceError(file, `spec.headers[${i}].value`, 'is required (secretKeyRef is not supported yet)');
        headers[h['name'].toLowerCase()] = String(value);
      }
      this.endpoints.set(name, { ...base, headers });
    }
  }

  /** Names of the loaded endpoints (for the metadata API). */
  names(): string[] {
    return [...this.endpoints.keys()];
  }

  /** The external target for an app id, or undefined when it names a Dapr app. */
  lookup(appId: string): ExternalTarget | undefined {
    const endpoint = this.endpoints.get(appId);
    if (endpoint) return endpoint;
    if (!/^https?:\/\//i.test(appId)) return undefined;
    const base = parseBase(appId);
    return base ? { ...base, headers: {} } : undefined;
  }
}
