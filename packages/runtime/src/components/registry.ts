/**
 * The component registry, keyed by `kind.name` as Dapr spells component types (`state.redis`). Each
 * driver registers once with the versions it implements; an unknown type or version fails start-up
 * with the list of supported ones (STYLE.md #3).
 */
import type { Component } from './component.js';

/** Building-block kinds, as the first segment of a component type. */
export type ComponentKind = 'state' | 'secretstores' | 'pubsub' | 'bindings' | 'configuration' | 'lock' | 'crypto';

/** One driver's registration. */
export interface ComponentRegistration {
  /** Full type, e.g. `state.postgresql`. */
  readonly type: string;
  /** Versions accepted in `spec.version`, e.g. `['v1', 'v2']`. */
  readonly versions: readonly string[];
  /**
   * Creates an uninitialised instance for the given version. Built-in drivers import their module
   * here, so a sidecar only loads the client libraries (ioredis, pg, nats …) it actually uses.
   */
  create(version: string): Component | Promise<Component>;
}

/** Thrown for an unknown component type or version. */
export class UnknownComponentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownComponentError';
  }
}

/** The kind of a component type (`state.redis` → `state`). */
export function kindOf(type: string): ComponentKind | undefined {
  const kind = type.split('.')[0];
  const known: readonly string[] = ['state', 'secretstores', 'pubsub', 'bindings', 'configuration', 'lock', 'crypto'];
  return kind !== undefined && known.includes(kind) ? (kind as ComponentKind) : undefined;
}

/** A set of driver registrations. */
export class ComponentRegistry {
  private readonly registrations = new Map<string, ComponentRegistration>();

  /** Adds a driver; registering one type twice is a programming error. */
  register(registration: ComponentRegistration): this {
    if (this.registrations.has(registration.type)) throw new Error(`component type ${registration.type} registered twice`);
    this.registrations.set(registration.type, registration);
    return this;
  }

  /** Creates an instance of `type` at `version`, or explains what is supported. */
  async create(type: string, version: string): Promise<Component> {
    const registration = this.registrations.get(type);
    if (!registration) {
      const kind = kindOf(type);
      const candidates = this.supportedTypes(kind);
      throw new UnknownComponentError(
        `unknown component type "${type}"; supported${kind ? ` ${kind}` : ''} types: ${candidates.join(', ')}`,
      );
    }
    if (!registration.versions.includes(version)) {
      throw new UnknownComponentError(
        `component type "${type}" has no version "${version}"; supported versions: ${registration.versions.join(', ')}`,
      );
    }
    return registration.create(version);
  }

  /** Registered types, optionally of one kind, sorted. */
  supportedTypes(kind?: ComponentKind): string[] {
    return [...this.registrations.keys()].filter((t) => kind === undefined || kindOf(t) === kind).sort();
  }
}
