/**
 * The Configuration's `metrics.rules`: per metric and label, regular expressions whose matches in a
 * label value are replaced by the map key, to keep cardinality down (ids in paths, per-user topics).
 * Semantics are daprd's (`pkg/diagnostics/utils` `CreateRulesMap`/`WithTags`):
 *
 * - a rule's `name` is matched against the metric with the first `dapr_` removed and `/` and `_`
 *   treated alike, so `dapr_http_server_request_count` and `http/server/request_count` both name
 *   `dapr_http_server_request_count`;
 * - every match of the expression in the value is replaced (Go `ReplaceAllString`): an expression
 *   that should collapse a whole value matches the whole value (`"orders/.+"`); `$1`, `${name}` in
 *   the key expand capture groups, `$$` is a literal `$`;
 * - empty values are left alone (daprd drops empty tags before the rules run).
 *
 * Where daprd applies a label's expressions in Go map order (random), Weft applies them in the order
 * they are written, so the outcome does not change from one start to the next.
 *
 * Expressions are Go RE2 syntax; the common subset runs unchanged on JavaScript's engine, named groups
 * `(?P<name>…)` are translated, and leading flags `(?i)`, `(?s)`, `(?m)` become RegExp flags.
 */

/** One rule as the Configuration spells it (`spec.metrics.rules[]`). */
export interface MetricRuleSpec {
  name: string;
  labels: { name: string; regex: Record<string, string> }[];
}

/** Label values by label name, as recorders pass them. */
export type LabelSet = Record<string, string | number>;

/** Rewrites the label values of one metric. */
export type LabelRewriter = (labels: LabelSet) => LabelSet;

/** A rule expression that does not compile; `path` names the offending field. */
export class MetricRuleError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'MetricRuleError';
  }
}

interface Replacement {
  regex: RegExp;
  /** The map key: the replacement template. */
  template: string;
}

const GO_FLAGS: Record<string, string> = { i: 'i', s: 's', m: 'm' };

/** Translates a Go RE2 expression to a global JavaScript RegExp; throws with the reason. */
export function goRegExp(source: string): RegExp {
  let body = source;
  let flags = 'g';
  const leading = /^\(\?([a-zA-Z]+)\)/.exec(body);
  if (leading) {
    for (const f of leading[1] ?? '') {
      const js = GO_FLAGS[f];
      if (!js) throw new Error(`flag "${f}" is not supported`);
      if (!flags.includes(js)) flags += js;
    }
    body = body.slice(leading[0].length);
  }
  body = body.replace(/\(\?P</g, '(?<');
  return new RegExp(body, flags);
}

/**
 * Expands a Go replacement template (`regexp.Expand`) for one match: `$n`, `${n}`, `$name`,
 * `${name}` and `$$`. An unknown or unmatched group expands to nothing; a `$` that starts no valid
 * reference is kept as is.
 */
export function expandGoTemplate(template: string, match: RegExpExecArray): string {
  if (!template.includes('$')) return template;
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (ch !== '$') {
      out += ch;
      continue;
    }
    const next = template[i + 1];
    if (next === '$') {
      out += '$';
      i += 1;
      continue;
    }
    let name: string | undefined;
    let end = i;
    if (next === '{') {
      const close = template.indexOf('}', i + 2);
      const inner = close === -1 ? '' : template.slice(i + 2, close);
      if (/^\w+$/.test(inner)) {
        name = inner;
        end = close;
      }
    } else {
      const run = /^\w+/.exec(template.slice(i + 1));
      if (run) {
        name = run[0];
        end = i + run[0].length;
      }
    }
    if (name === undefined) {
      out += '$';
      continue;
    }
    out += (/^\d+$/.test(name) ? match[Number(name)] : match.groups?.[name]) ?? '';
    i = end;
  }
  return out;
}

/**
 * Go's `ReplaceAllString`: successive non-overlapping matches are replaced, and an empty match right
 * after a previous match is skipped (where JavaScript's `replace` would replace it too: `.*` on
 * `abc` gives one replacement in Go, two in JavaScript).
 */
function replaceAll(value: string, r: Replacement): string {
  const re = r.regex;
  re.lastIndex = 0;
  let out = '';
  let copied = 0;
  let previousEnd = -1;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    const start = m.index;
    const end = start + m[0].length;
    if (m[0].length === 0) {
      re.lastIndex = end + 1;
      if (start === previousEnd) continue;
    }
    out += value.slice(copied, start) + expandGoTemplate(r.template, m);
    copied = end;
    previousEnd = end;
    if (re.lastIndex > value.length) break;
  }
  return out + value.slice(copied);
}

/** A metric name as daprd keys its rules: first `dapr_` removed, `/` and `_` alike. */
export function ruleKey(metricName: string): string {
  return metricName.replace('dapr_', '').replaceAll('/', '_');
}

/** Compiled `metrics.rules`, looked up by metric name. */
export class MetricLabelRules {
  private constructor(private readonly byMetric: Map<string, Map<string, Replacement[]>>) {}

  /** Compiles the rules; throws {@link MetricRuleError} naming the first expression that does not compile. */
  static compile(rules: readonly MetricRuleSpec[], pathPrefix = 'spec.metrics.rules'): MetricLabelRules {
    const byMetric = new Map<string, Map<string, Replacement[]>>();
    for (const [i, rule] of rules.entries()) {
      const key = ruleKey(rule.name);
      const labels = byMetric.get(key) ?? new Map<string, Replacement[]>();
      byMetric.set(key, labels);
      for (const [j, label] of rule.labels.entries()) {
        const replacements: Replacement[] = [];
        for (const [template, source] of Object.entries(label.regex)) {
          try {
            replacements.push({ regex: goRegExp(source), template });
          } catch (err) {
            throw new MetricRuleError(
              `${pathPrefix}.${i}.labels.${j}.regex.${template}`,
              `rule for ${rule.name} label ${label.name}: invalid regular expression "${source}": ${(err as Error).message}`,
            );
          }
        }
        // As in daprd, a later entry for the same metric and label replaces an earlier one.
        labels.set(label.name, replacements);
      }
    }
    return new MetricLabelRules(byMetric);
  }

  /** True when no rule is configured. */
  get empty(): boolean {
    return this.byMetric.size === 0;
  }

  /** The rewriter for `metricName`, or undefined when no rule names it (record labels unchanged). */
  rewriterFor(metricName: string): LabelRewriter | undefined {
    const labels = this.byMetric.get(ruleKey(metricName));
    if (!labels || labels.size === 0) return undefined;
    const entries = [...labels];
    return (input) => {
      let output: LabelSet | undefined;
      for (const [label, replacements] of entries) {
        const original = input[label];
        if (original === undefined || original === '') continue;
        let value = String(original);
        for (const r of replacements) value = replaceAll(value, r);
        if (value !== original) {
          output ??= { ...input };
          output[label] = value;
        }
      }
      return output ?? input;
    };
  }
}
