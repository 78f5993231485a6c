/**
 * Named debug points (STYLE.md #9): places in the engine where a test can make the sidecar crash
 * (`kill -9` semantics: no cleanup, no flush beyond what is committed) or pause, so crash tests hit an
 * exact moment instead of a lucky one. Armed from the environment of the sidecar process:
 * `WEFT_DEBUG_POINTS=workflow.step.after-commit:crash@25` crashes on the 25th hit.
 */

/** The points the engine passes through, in the order a step visits them. */
export const DEBUG_POINTS = [
  'workflow.orchestration.dispatched',
  'workflow.step.before-commit',
  'workflow.step.after-commit',
  'workflow.activity.before-complete',
  'workflow.activity.after-complete',
] as const;

/** A debug point's name. */
export type DebugPointName = (typeof DEBUG_POINTS)[number];

interface Arm {
  action: 'crash' | 'pause';
  /** Fires on this hit (1-based). */
  at: number;
  hits: number;
  pauseMs: number;
}

/** Parses `name:action[@hit][:ms]` entries separated by commas. */
export function parseDebugPoints(spec: string | undefined): Map<string, Arm> {
  const arms = new Map<string, Arm>();
  for (const entry of (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name = '', actionPart = 'crash', ms = '1000'] = entry.split(':');
    const [action = 'crash', at = '1'] = actionPart.split('@');
    if (!(DEBUG_POINTS as readonly string[]).includes(name)) throw new Error(`unknown debug point "${name}"; known: ${DEBUG_POINTS.join(', ')}`);
    if (action !== 'crash' && action !== 'pause') throw new Error(`debug point "${name}": action must be crash or pause`);
    arms.set(name, { action, at: Number(at) || 1, hits: 0, pauseMs: Number(ms) || 1000 });
  }
  return arms;
}

/** The armed points of one engine. */
export class DebugPoints {
  private readonly arms: Map<string, Arm>;

  constructor(spec: string | undefined) {
    this.arms = parseDebugPoints(spec);
  }

  /** Passes the point: crashes the process or pauses when armed for this hit. */
  async hit(name: DebugPointName): Promise<void> {
    const arm = this.arms.get(name);
    if (!arm) return;
    arm.hits += 1;
    if (arm.hits !== arm.at) return;
    if (arm.action === 'crash') {
      process.stderr.write(`weft: debug point ${name} reached (hit ${arm.hits}): crashing\n`);
      process.kill(process.pid, 'SIGKILL');
    }
    await new Promise((resolve) => setTimeout(resolve, arm.pauseMs));
  }
}
