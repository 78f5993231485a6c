/**
 * The `--config` Configuration file (`kind: Configuration`). This module reads the file and hands out
 * the raw `spec`; each feature parses its own section (access control in `acl/`, name resolution here)
 * so a section nobody implements yet never fails start-up.
 */
import fs from 'node:fs/promises';
import { ResourceError, parseYamlDocuments } from '../resources/loader.js';

/** The loaded Configuration: its name and raw spec. */
export interface ConfigurationFile {
  file: string;
  name: string;
  spec: Record<string, unknown>;
}

/** `spec.nameResolution`. */
export interface NameResolutionSpec {
  component?: string;
  configuration?: Record<string, unknown>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads the first `kind: Configuration` document of a file. */
export async function loadConfigurationFile(file: string): Promise<ConfigurationFile> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new ResourceError(file, '', `cannot read configuration file: ${(err as Error).message}`);
  }
  const doc = parseYamlDocuments(file, text).find((d) => d['kind'] === 'Configuration');
  if (!doc) throw new ResourceError(file, 'kind', 'no document with kind: Configuration');
  const spec = doc['spec'] ?? {};
  if (!isRecord(spec)) throw new ResourceError(file, 'spec', 'must be a mapping');
  const metadata = isRecord(doc['metadata']) ? doc['metadata'] : {};
  return { file, name: typeof metadata['name'] === 'string' ? metadata['name'] : '', spec };
}

/** Reads `spec.nameResolution`, naming the field on a type error. */
export function nameResolutionSpec(config: ConfigurationFile | undefined): NameResolutionSpec {
  const raw = config?.spec['nameResolution'];
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) throw new ResourceError(config?.file ?? '', 'spec.nameResolution', 'must be a mapping');
  const component = raw['component'];
  if (component !== undefined && typeof component !== 'string') {
    throw new ResourceError(config?.file ?? '', 'spec.nameResolution.component', 'must be a string');
  }
  const configuration = raw['configuration'];
  return {
    ...(component ? { component } : {}),
    ...(isRecord(configuration) ? { configuration } : {}),
  };
}
