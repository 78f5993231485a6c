/** Configuration items as daprd writes them in JSON (Go's `omitempty`: empty fields are left out). */
import type { ConfigurationItem } from '../../components/configuration/store.js';

/** One item: `{"value","version","metadata"}`, each only when non-empty; a deleted key is `{}`. */
export function itemJson(item: ConfigurationItem): Record<string, unknown> {
  return {
    ...(item.value !== '' ? { value: item.value } : {}),
    ...(item.version !== '' ? { version: item.version } : {}),
    ...(Object.keys(item.metadata).length > 0 ? { metadata: item.metadata } : {}),
  };
}

/** A map of items, keys sorted as Go's encoder sorts them. */
export function itemsJson(items: Record<string, ConfigurationItem>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(items)
      .sort()
      .map((key) => [key, itemJson(items[key] as ConfigurationItem)]),
  );
}
