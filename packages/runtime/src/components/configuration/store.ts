/**
 * The configuration store contract (`configuration.*` components): read items by key and watch them
 * for changes. Subscription ids, "current values first" and delivery to the app or a gRPC stream are
 * the building block's job (`blocks/configuration/`), so a driver only reads and watches.
 *
 * Deliberately not in the contract: writing items (Dapr's configuration API is read-only; items are
 * written with the backing system's own tools), and subscription ids (a driver's watch is a handle).
 */
import type { Component } from '../component.js';

/** One configuration item, as Dapr's `configuration.Item`. */
export interface ConfigurationItem {
  value: string;
  /** Empty when the store has no version for the item. */
  version: string;
  metadata: Record<string, string>;
}

/** What to read or watch: no keys means every key. */
export interface ConfigurationRequest {
  keys: readonly string[];
  /** Request metadata (`metadata.*` query parameters, gRPC `metadata`). */
  metadata: Readonly<Record<string, string>>;
}

/**
 * Called with the items that changed. A deleted key arrives as an empty item (`value` ""), as Dapr's
 * Redis store reports it.
 */
export type ConfigurationChangeHandler = (items: Record<string, ConfigurationItem>) => void;

/** A running watch; `close` stops it and is safe to call twice. */
export interface ConfigurationWatch {
  close(): Promise<void>;
}

/** A configuration store. */
export interface ConfigurationStore extends Component {
  /** Items by key; keys that do not exist are absent from the result. */
  get(request: ConfigurationRequest): Promise<Record<string, ConfigurationItem>>;
  /**
   * Starts watching; resolves once changes are being listened for, so a read made afterwards and
   * the changes delivered later leave no gap.
   */
  watch(request: ConfigurationRequest, onChange: ConfigurationChangeHandler): Promise<ConfigurationWatch>;
}

/** An empty item: how a deleted key is reported. */
export const DELETED_ITEM: ConfigurationItem = Object.freeze({ value: '', version: '', metadata: Object.freeze({}) }) as ConfigurationItem;
