import { describe, expect, it } from 'vitest';
import { canPublish, canSubscribe, parseTopicScopes } from './scopes.js';

describe('topic scoping', () => {
  const scopes = parseTopicScopes({
    publishingScopes: 'app1=a,b;app2=',
    subscriptionScopes: 'app1=a',
    allowedTopics: 'a,b,c',
    protectedTopics: 'c',
  });

  it('limits a listed app to its topics and an app listed with none to nothing', () => {
    expect(canPublish('a', 'app1', scopes)).toBe(true);
    expect(canPublish('c', 'app1', scopes)).toBe(false);
    expect(canPublish('a', 'app2', scopes)).toBe(false);
  });

  it('lets unlisted apps use allowed topics except protected ones', () => {
    expect(canPublish('b', 'app3', scopes)).toBe(true);
    expect(canPublish('c', 'app3', scopes)).toBe(false);
    expect(canPublish('z', 'app3', scopes)).toBe(false);
    expect(canSubscribe('b', 'app1', scopes)).toBe(false);
  });
});
