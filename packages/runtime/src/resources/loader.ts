/**
 * Reads resource YAML from `--resources-path` directories the way daprd does: every `*.yaml`/`*.yml`
 * file (not recursive), multi-document files, documents of other kinds kept for later blocks.
 * A malformed file stops start-up with the file, the field and what was expected.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type * as Yaml from 'yaml';
import type { z } from 'zod';
import type { ComponentResource } from './component-schema.js';
import { schemas } from './component-schema.js';
import { lazyModule } from '../util/lazy-module.js';

/** Thrown for a resource file that cannot be used. */
export class ResourceError extends Error {
  constructor(readonly file: string, readonly field: string, detail: string) {
    super(`${file}: ${field ? `${field}: ` : ''}${detail}`);
    this.name = 'ResourceError';
  }
}

/**
 * A resource that is valid but whose component could not start: its backend is unreachable, refused
 * the credentials, or did not answer within `initTimeout`. Told apart from invalid YAML so the CLI
 * does not call a good file invalid.
 */
export class ComponentInitError extends ResourceError {
  constructor(file: string, field: string, detail: string) {
    super(file, field, detail);
    this.name = 'ComponentInitError';
  }
}

/** A resource document with the file it came from. */
export interface LoadedDocument<T = Record<string, unknown>> {
  file: string;
  /** 0-based index of the document in its file. */
  index: number;
  doc: T;
}

/** Everything found under the resources paths, grouped by kind. */
export interface LoadedResources {
  components: LoadedDocument<ComponentResource>[];
  /** Documents of other kinds (Subscription, Resiliency, HTTPEndpoint …), keyed by `kind`. */
  others: Map<string, LoadedDocument[]>;
}

function describeZodIssue(issue: z.core.$ZodIssue): [string, string] {
  const field = issue.path.map(String).join('.');
  return [field, issue.message];
}

/** Validates one Component document. */
export function parseComponent(file: string, doc: unknown): ComponentResource {
  const result = schemas().componentSchema.safeParse(doc);
  if (!result.success) {
    const [field, message] = describeZodIssue(result.error.issues[0] as z.core.$ZodIssue);
    throw new ResourceError(file, field, message);
  }
  return result.data;
}

async function listYamlFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    const stat = await fs.stat(dir).catch(() => undefined);
    if (stat?.isFile()) return [dir];
    throw new ResourceError(dir, '', `cannot read resources path: ${(err as Error).message}`);
  }
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
    .map((e) => path.join(dir, e.name))
    .sort();
}

/** The YAML parser, loaded by the first resource or Configuration file: the embedded defaults have none. */
const yaml = lazyModule<typeof Yaml>('yaml');

/** Parses the YAML text of one file into documents. */
export function parseYamlDocuments(file: string, text: string): Record<string, unknown>[] {
  const docs = yaml().parseAllDocuments(text);
  const result: Record<string, unknown>[] = [];
  for (const [i, doc] of (Array.isArray(docs) ? docs : [docs]).entries()) {
    if (doc.errors.length > 0) {
      const first = doc.errors[0];
      throw new ResourceError(file, `document ${i + 1}`, `invalid YAML: ${first?.message ?? 'parse error'}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new ResourceError(file, `document ${i + 1}`, 'expected a mapping with apiVersion, kind, metadata and spec');
    }
    result.push(value as Record<string, unknown>);
  }
  return result;
}

/** Loads every resource under the given directories (or single files). */
export async function loadResources(paths: readonly string[]): Promise<LoadedResources> {
  const loaded: LoadedResources = { components: [], others: new Map() };
  const names = new Map<string, string>();
  for (const dir of paths) {
    for (const file of await listYamlFiles(path.resolve(dir))) {
      const docs = parseYamlDocuments(file, await fs.readFile(file, 'utf8'));
      for (const [index, doc] of docs.entries()) {
        const kind = doc['kind'];
        if (typeof kind !== 'string') throw new ResourceError(file, 'kind', 'is required (e.g. Component)');
        if (kind === 'Component') {
          const component = parseComponent(file, doc);
          const previous = names.get(component.metadata.name);
          if (previous) {
            throw new ResourceError(file, 'metadata.name', `component "${component.metadata.name}" is also defined in ${previous}`);
          }
          names.set(component.metadata.name, file);
          loaded.components.push({ file, index, doc: component });
        } else {
          const list = loaded.others.get(kind) ?? [];
          list.push({ file, index, doc });
          loaded.others.set(kind, list);
        }
      }
    }
  }
  return loaded;
}
