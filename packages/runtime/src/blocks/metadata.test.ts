/** Component capabilities as the metadata API lists them (daprd's rules). */
import { describe, expect, it } from 'vitest';
import type { LoadedComponent } from '../components/manager.js';
import type { StateFeature, StateStore } from '../components/state/store.js';
import { capabilitiesOf } from './metadata.js';

function stateComponent(features: StateFeature[], properties: Record<string, string> = {}): LoadedComponent {
  const instance = { features: () => features } as unknown as StateStore;
  return { name: 's', type: 'state.test', version: 'v1', kind: 'state', properties, instance, source: 'test' };
}

describe('capabilitiesOf a state store', () => {
  it('adds ACTOR to a store with ETags and transactions that does not declare actorStateStore', () => {
    expect(capabilitiesOf(stateComponent(['ETAG', 'TRANSACTIONAL', 'TTL']))).toEqual(['ETAG', 'TRANSACTIONAL', 'TTL', 'ACTOR']);
  });

  it('adds ACTOR once to a store that also declares actorStateStore', () => {
    expect(capabilitiesOf(stateComponent(['ETAG', 'TRANSACTIONAL'], { actorStateStore: 'true' }))).toEqual(['ETAG', 'TRANSACTIONAL', 'ACTOR']);
  });

  it('leaves ACTOR out for a store without transactions, even when it declares actorStateStore', () => {
    expect(capabilitiesOf(stateComponent(['ETAG', 'TTL'], { actorStateStore: 'true' }))).toEqual(['ETAG', 'TTL']);
  });

  it('leaves ACTOR out for a store without ETags', () => {
    expect(capabilitiesOf(stateComponent(['TRANSACTIONAL']))).toEqual(['TRANSACTIONAL']);
  });
});
