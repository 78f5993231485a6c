/**
 * Local name resolution with no configuration: every sidecar on the machine writes one small JSON file
 * into a shared registry directory (app id, host, internal port, pid …) and removes it on exit. A
 * resolver lists the files of an app id and keeps those whose pid is alive, deleting the rest, so a
 * killed sidecar disappears from resolution and a restarted one is found again with no other action.
 *
 * The directory is `WEFT_REGISTRY_DIR` when set, else `<tmpdir>/weft-registry-<uid>`: per user, and
 * cleared by a reboot, like the processes it describes.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { NameResolver, ResolvedAddress, SelfRegistration } from '../resolver.js';
import { AppNotFoundError, splitAppId } from '../resolver.js';

/** One registry file's content. */
export interface RegistryEntry extends SelfRegistration {
  /** ISO time the sidecar registered. */
  created: string;
}

/** The registry directory for an environment. */
export function registryDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const explicit = env['WEFT_REGISTRY_DIR'];
  if (explicit) return path.resolve(explicit);
  const uid = typeof process.getuid === 'function' ? String(process.getuid()) : os.userInfo().username;
  return path.join(os.tmpdir(), `weft-registry-${uid}`);
}

/** Whether a process id is alive (EPERM means it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads every live entry of the registry, removing files of dead processes. */
export async function listRegistry(dir: string): Promise<RegistryEntry[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const entries: RegistryEntry[] = [];
  await Promise.all(
    names
      .filter((n) => n.endsWith('.json'))
      .map(async (name) => {
        const file = path.join(dir, name);
        let entry: RegistryEntry;
        try {
          entry = JSON.parse(await fsp.readFile(file, 'utf8')) as RegistryEntry;
        } catch {
          return; // Being written or already gone; the next read sees it whole.
        }
        if (pidAlive(entry.pid)) entries.push(entry);
        else await fsp.rm(file, { force: true });
      }),
  );
  // Files are read concurrently, so entries arrive in any order: ties on `created` (one millisecond)
  // are broken by pid and port, or round-robin over two instances could pick the same one twice.
  return entries.sort((a, b) => a.created.localeCompare(b.created) || a.pid - b.pid || a.internalPort - b.internalPort);
}

/** Registry files of sidecars in this process, removed synchronously if the process exits unclosed. */
const ownFiles = new Set<string>();
let exitHookInstalled = false;
function removeOwnFilesOnExit(file: string): void {
  ownFiles.add(file);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // One listener for every sidecar of the process (tests start dozens).
  process.once('exit', () => {
    for (const f of ownFiles) fs.rmSync(f, { force: true });
  });
}

/** The registry-directory resolver. */
export class LocalResolver implements NameResolver {
  readonly name = 'local';
  readonly dir: string;
  private file: string | undefined;
  private self: RegistryEntry | undefined;
  private next = 0;

  constructor(options: { dir?: string; env?: Readonly<Record<string, string | undefined>> } = {}) {
    this.dir = options.dir ?? registryDir(options.env);
  }

  async register(self: SelfRegistration): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    this.file = path.join(this.dir, `${self.appId}.${self.pid}.${self.internalPort}.json`);
    this.self = { ...self, extra: { ...self.extra }, created: new Date().toISOString() };
    await this.write();
    removeOwnFilesOnExit(this.file);
  }

  async update(extra: Record<string, string>): Promise<void> {
    if (!this.self) return;
    this.self.extra = { ...this.self.extra, ...extra };
    await this.write();
  }

  async resolve(target: string): Promise<ResolvedAddress> {
    const { appId, namespace } = splitAppId(target);
    const live = (await listRegistry(this.dir)).filter(
      (e) => e.appId === appId && (namespace === undefined || e.namespace === namespace || (e.namespace === '' && namespace === 'default')),
    );
    if (live.length === 0) throw new AppNotFoundError(target);
    // Round-robin over instances of the same app id.
    const entry = live[this.next++ % live.length] as RegistryEntry;
    return { host: entry.host, port: entry.internalPort, grpcPort: entry.grpcPort };
  }

  async close(): Promise<void> {
    if (this.file) {
      ownFiles.delete(this.file);
      await fsp.rm(this.file, { force: true });
    }
    this.file = undefined;
  }

  private async write(): Promise<void> {
    if (!this.file || !this.self) return;
    // Write then rename, so readers never see half a file.
    const tmp = `${this.file}.${process.pid}.tmp`;
    await fsp.writeFile(tmp, JSON.stringify(this.self), { mode: 0o600 });
    await fsp.rename(tmp, this.file);
  }
}
