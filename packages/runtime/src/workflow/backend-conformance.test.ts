/** The backend conformance suite (`backend-conformance.ts`) on every driver. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { dropRedisWorkflowApps, newRedisWorkflowApp, openRedisWorkflowBackend } from '../../../../test/support/redis-workflows.js';
import { POSTGRES_URL, SERVICES, requireService } from '../../../../test/support/services.js';
import type { WorkflowBackend } from './backend.js';
import { backendConformance } from './backend-conformance.js';
import { MemoryWorkflowBackend } from './memory-backend.js';
import { PostgresWorkflowBackend } from './postgres-backend.js';
import { SqliteWorkflowBackend } from './sqlite-backend.js';

backendConformance('in-memory (reference)', {
  open: async () => new MemoryWorkflowBackend(),
  // One object is one store: sharing it is how two engines share memory.
  share: async (first) => first,
});

const sqliteFiles = new WeakMap<WorkflowBackend, string>();
backendConformance('SQLite', {
  open: async () => {
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'weft-wf-conformance-')), 'wf.sqlite');
    const backend = new SqliteWorkflowBackend(file, 'conformance');
    sqliteFiles.set(backend, file);
    return backend;
  },
  share: async (first) => new SqliteWorkflowBackend(sqliteFiles.get(first)!, 'conformance'),
});

const postgresApps = new WeakMap<WorkflowBackend, string>();
backendConformance('PostgreSQL', {
  open: async () => {
    if (!(await requireService(SERVICES.postgres, 'the workflow backend conformance suite on Postgres'))) return undefined;
    // A fresh app id is a fresh store: every row carries it.
    const appId = `conformance-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const backend = await PostgresWorkflowBackend.open(POSTGRES_URL, appId);
    postgresApps.set(backend, appId);
    return backend;
  },
  share: async (first) => PostgresWorkflowBackend.open(POSTGRES_URL, postgresApps.get(first)!),
});

const redisApps = new WeakMap<WorkflowBackend, string>();
backendConformance('Redis', {
  open: async () => {
    if (!(await requireService(SERVICES.redis, 'the workflow backend conformance suite on Redis'))) return undefined;
    // A fresh app id is a fresh key prefix; its keys are deleted after the suite.
    const appId = newRedisWorkflowApp('conformance');
    const backend = await openRedisWorkflowBackend(appId);
    redisApps.set(backend, appId);
    return backend;
  },
  share: async (first) => openRedisWorkflowBackend(redisApps.get(first)!),
});
afterAll(() => dropRedisWorkflowApps());
