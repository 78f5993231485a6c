/**
 * What HTTP and transform tasks do (delay tasks are durable timers in the workflow itself). These
 * run inside workflow activities, so they may run more than once: HTTP targets should be idempotent.
 */
import type { z } from 'zod';
import type { HttpTaskConfig, TransformTaskConfig } from '../definitions/model.js';

/** A task failure whose message is meant for the person reading the execution's history. */
export class TaskError extends Error {
  override readonly name = 'TaskError';
}

/** Where the sidecar's HTTP API is, for service invocation. */
export interface InvocationTarget {
  daprHttpUrl: string;
  defaultTimeoutMs: number;
}

/**
 * Calls `config.method` on `config.app_id` through the sidecar's service invocation API. A 2xx
 * answer is the result (parsed when it is JSON); anything else fails the task with status and body.
 */
export async function runHttpTask(config: z.output<typeof HttpTaskConfig>, body: unknown, target: InvocationTarget): Promise<unknown> {
  const method = config.method.replace(/^\/+/, '');
  const url = `${target.daprHttpUrl}/v1.0/invoke/${encodeURIComponent(config.app_id)}/method/${method}`;
  const hasBody = body !== undefined && config.verb !== 'GET' && config.verb !== 'DELETE';
  let res: Response;
  try {
    res = await fetch(url, {
      method: config.verb,
      headers: hasBody ? { 'content-type': 'application/json' } : {},
      body: hasBody ? JSON.stringify(body) : null,
      signal: AbortSignal.timeout(config.timeout_ms ?? target.defaultTimeoutMs),
    });
  } catch (err) {
    const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${config.timeout_ms ?? target.defaultTimeoutMs} ms` : (err as Error).message;
    throw new TaskError(`${config.verb} ${config.app_id}/${method}: ${reason}`);
  }
  const text = await res.text();
  if (!res.ok) throw new TaskError(`${config.verb} ${config.app_id}/${method} answered ${res.status}: ${text.slice(0, 500)}`);
  if (text === '') return null;
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new TaskError(`${config.verb} ${config.app_id}/${method} answered invalid JSON`);
    }
  }
  return text;
}

/** Applies a built-in transform. Throws TaskError when the input does not fit the operation. */
export function runTransform(config: z.output<typeof TransformTaskConfig>, input: unknown): unknown {
  const op = config.operation;
  const wrong = (expected: string) => new TaskError(`"${op}" needs ${expected}, got ${describe(input)}`);
  switch (op) {
    case 'uppercase':
    case 'lowercase':
      if (typeof input !== 'string') throw wrong('a string');
      return op === 'uppercase' ? input.toUpperCase() : input.toLowerCase();
    case 'reverse':
      if (typeof input === 'string') return [...input].reverse().join('');
      if (Array.isArray(input)) return [...(input as unknown[])].reverse();
      throw wrong('a string or an array');
    case 'length':
      if (typeof input === 'string' || Array.isArray(input)) return input.length;
      throw wrong('a string or an array');
    case 'sum':
      if (!Array.isArray(input) || !input.every((n) => typeof n === 'number' && Number.isFinite(n))) throw wrong('an array of numbers');
      return (input as number[]).reduce((a, b) => a + b, 0);
    case 'pick': {
      let value: unknown = input;
      for (const key of (config.path ?? '').split('.')) {
        if (typeof value !== 'object' || value === null || !(key in value)) throw new TaskError(`"pick" found no "${config.path}" in ${describe(input)}`);
        value = (value as Record<string, unknown>)[key];
      }
      return value;
    }
    case 'template': {
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw wrong('an object');
      const fields = input as Record<string, unknown>;
      return (config.template ?? '').replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_, name: string) => {
        if (!(name in fields)) throw new TaskError(`"template" placeholder {{${name}}} has no field in ${describe(input)}`);
        const value = fields[name];
        return typeof value === 'string' ? value : JSON.stringify(value);
      });
    }
  }
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
