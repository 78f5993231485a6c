/**
 * Creating a component driver directly (no sidecar) for the component-level conformance cases: the
 * built-in registry, a parsed YAML declaration's metadata and a quiet component context.
 */
import { parse } from 'yaml';
import { builtinRegistry } from '../../packages/runtime/src/components/builtin.js';
import type { Component, ComponentContext } from '../../packages/runtime/src/components/component.js';
import { createLogger } from '../../packages/runtime/src/logging/logger.js';

/** A component built and initialised from one Component YAML document. */
export async function initComponent<T extends Component>(yaml: string, dataDir: string, appId = 'conformance'): Promise<T> {
  const doc = parse(yaml) as { metadata: { name: string }; spec: { type: string; version: string; metadata?: { name: string; value: unknown }[] } };
  const props = Object.fromEntries((doc.spec.metadata ?? []).map((m) => [m.name, String(m.value)]));
  const instance = await builtinRegistry().create(doc.spec.type, doc.spec.version);
  const context: ComponentContext = {
    name: doc.metadata.name,
    appId,
    namespace: '',
    dataDir,
    logger: createLogger({ level: 'error', json: false, appId }),
    env: {},
  };
  await instance.init(props, context);
  return instance as T;
}
