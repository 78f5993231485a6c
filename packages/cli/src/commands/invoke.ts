/**
 * `weft invoke --app-id X --method M [--verb V] [--data D | --data-file F]`: calls a method of a
 * running app through its own sidecar, found in the local registry, as `dapr invoke` does.
 */
import fs from 'node:fs/promises';
import { Command } from 'commander';
import { findRunningApp, sidecarHeaders } from '../find-app.js';

/** The `invoke` command. */
export function invokeCommand(): Command {
  return new Command('invoke')
    .description('invoke a method of a running app through its sidecar')
    .requiredOption('-a, --app-id <id>', 'the app to invoke')
    .requiredOption('-m, --method <method>', 'the method (path) to call')
    .option('-v, --verb <verb>', 'the HTTP verb', 'POST')
    .option('-d, --data <data>', 'the request body')
    .option('-f, --data-file <file>', 'a file holding the request body')
    .action(async (values: { appId: string; method: string; verb: string; data?: string; dataFile?: string }) => {
      if (values.data !== undefined && values.dataFile !== undefined) throw new Error('give --data or --data-file, not both');
      const entry = await findRunningApp(values.appId);
      const body = values.dataFile !== undefined ? await fs.readFile(values.dataFile) : values.data;
      const method = values.method.replace(/^\/+/, '');
      const res = await fetch(`http://127.0.0.1:${entry.httpPort}/v1.0/invoke/${encodeURIComponent(values.appId)}/method/${method}`, {
        method: values.verb.toUpperCase(),
        headers: { ...sidecarHeaders(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body } : {}),
      });
      const text = await res.text();
      if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      if (!res.ok) throw new Error(`invocation failed with status ${res.status}`);
      process.stderr.write('App invoked successfully\n');
    });
}
