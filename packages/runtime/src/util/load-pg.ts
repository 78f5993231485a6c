/**
 * The `pg` client library, imported on first use. Modules that talk to Postgres only when a component
 * or setting names it (actor placement, the jobs and workflow stores) load it here instead of at
 * import time, so a sidecar on the embedded SQLite stores never loads it.
 */
import type pg from 'pg';

/** Loads (once; Node caches the module) and returns the `pg` module. */
export async function loadPg(): Promise<typeof pg> {
  return (await import('pg')).default;
}
