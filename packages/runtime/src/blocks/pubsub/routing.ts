/**
 * Route rules with CEL `match` expressions (`event.type == "widget"`, `has(event.data.x)`), evaluated
 * with a real CEL implementation against the CloudEvent bound to `event`, as Dapr does.
 */
import type * as Cel from '@marcbachmann/cel-js';
import { lazyModule } from '../../util/lazy-module.js';
import type { CloudEvent } from './cloudevents.js';

/** The CEL implementation, loaded by the first rule with a `match` expression. */
const cel = lazyModule<typeof Cel>('@marcbachmann/cel-js');

/** A rule ready to evaluate. An empty `match` always matches (the default route). */
export interface CompiledRule {
  match: string;
  path: string;
  test(event: CloudEvent): boolean;
}

/** Compiles one rule; throws with `where` in the message when the CEL does not parse. */
export function compileRule(match: string, path: string, where: string): CompiledRule {
  if (match.trim() === '') return { match: '', path, test: () => true };
  let program: ReturnType<typeof Cel.parse>;
  try {
    program = cel().parse(match);
  } catch (err) {
    throw new Error(`${where}: invalid CEL expression ${JSON.stringify(match)}: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
  return {
    match,
    path,
    test: (event) => {
      try {
        return program({ event }) === true;
      } catch {
        // A rule that cannot be evaluated for this event (missing field, type mismatch) does not match.
        return false;
      }
    },
  };
}

/** The path of the first rule that matches, or undefined (no rule and no default: drop). */
export function selectRoute(rules: readonly CompiledRule[], event: CloudEvent): string | undefined {
  for (const rule of rules) if (rule.test(event)) return rule.path;
  return undefined;
}
