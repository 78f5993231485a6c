/**
 * Topic scoping from a pub/sub component's metadata, as Dapr reads it: `publishingScopes` and
 * `subscriptionScopes` (`app1=t1,t2;app2=t3`), `allowedTopics` and `protectedTopics` (`t1,t2`).
 */
import type { MetadataProperties } from '../../components/metadata.js';
import { readProperty } from '../../components/metadata.js';

/** The parsed scoping rules of one component. */
export interface TopicScopes {
  publishing: Map<string, string[]>;
  subscription: Map<string, string[]>;
  allowed: string[];
  protected: string[];
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
}

function scopeMap(value: string | undefined): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of (value ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at === -1) continue;
    const app = part.slice(0, at).trim();
    // An app listed with no topics ("app1=") may use none.
    if (app !== '') map.set(app, list(part.slice(at + 1)));
  }
  return map;
}

/** Reads the scoping keys of a component. */
export function parseTopicScopes(props: MetadataProperties): TopicScopes {
  return {
    publishing: scopeMap(readProperty(props, 'publishingScopes')),
    subscription: scopeMap(readProperty(props, 'subscriptionScopes')),
    allowed: list(readProperty(props, 'allowedTopics')),
    protected: list(readProperty(props, 'protectedTopics')),
  };
}

function allowed(topic: string, scopes: TopicScopes, scoped: string[] | undefined): boolean {
  if (scopes.allowed.length > 0 && !scopes.allowed.includes(topic) && scoped === undefined) return false;
  if (scopes.protected.includes(topic) && scoped === undefined) return false;
  if (scoped === undefined) return true;
  return scoped.includes(topic);
}

/** May `appId` publish to `topic`? */
export function canPublish(topic: string, appId: string, scopes: TopicScopes): boolean {
  return allowed(topic, scopes, scopes.publishing.get(appId));
}

/** May `appId` subscribe to `topic`? */
export function canSubscribe(topic: string, appId: string, scopes: TopicScopes): boolean {
  return allowed(topic, scopes, scopes.subscription.get(appId));
}
