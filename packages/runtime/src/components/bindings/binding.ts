/**
 * The bindings contract. An output binding performs one named operation (`create`, `get`, `exec` …)
 * on an external system; an input binding pushes events from an external system to a handler.
 *
 * Deliberately not in the contract: the app channel, the `OPTIONS` start-up probe, delivery headers
 * and the reply body that saves state or calls output bindings. The bindings block does those once
 * for every driver. `data` reaches a driver as bytes (the JSON the caller sent, re-serialised).
 */
import type { Component } from '../component.js';

/** Capabilities the metadata API reports for a binding, in Dapr's spelling. */
export type BindingCapability = 'INPUT_BINDING' | 'OUTPUT_BINDING';

/** One output-binding call. */
export interface InvokeRequest {
  operation: string;
  data: Buffer;
  metadata: Record<string, string>;
  /** Aborted when an outbound resiliency timeout gives up on the call; drivers that can stop the work do. */
  signal?: AbortSignal;
}

/** What an operation answered; `undefined` from `invoke` means "no response object" (HTTP 204). */
export interface InvokeResponse {
  data: Buffer;
  metadata?: Record<string, string>;
  contentType?: string;
}

/** An event read from the external system. */
export interface BindingEvent {
  data: Buffer;
  /** Delivered to the app as HTTP headers. */
  metadata: Record<string, string>;
}

/** Handles one input event; a rejection tells the driver the app did not take it. */
export type BindingHandler = (event: BindingEvent) => Promise<void>;

/** A driver that performs operations on an external system. */
export interface OutputBinding extends Component {
  /** Operations this driver accepts; others are refused before `invoke`. */
  operations(): readonly string[];
  invoke(request: InvokeRequest): Promise<InvokeResponse | undefined>;
}

/** A driver that reads events from an external system. */
export interface InputBinding extends Component {
  /** Starts reading; resolves once reading has started. Stopped by `close()`. */
  read(handler: BindingHandler): Promise<void>;
}

/** Type guard for {@link OutputBinding}. */
export function isOutputBinding(component: Component): component is OutputBinding {
  const c = component as Partial<OutputBinding>;
  return typeof c.invoke === 'function' && typeof c.operations === 'function';
}

/** Type guard for {@link InputBinding}. */
export function isInputBinding(component: Component): component is InputBinding {
  return typeof (component as Partial<InputBinding>).read === 'function';
}

/** The capabilities of a binding instance. */
export function bindingCapabilities(component: Component): BindingCapability[] {
  const caps: BindingCapability[] = [];
  if (isInputBinding(component)) caps.push('INPUT_BINDING');
  if (isOutputBinding(component)) caps.push('OUTPUT_BINDING');
  return caps;
}
