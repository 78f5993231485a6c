/**
 * The artifacts folder the services share (the seed's `/artifacts` volume): `blobs/<invoice>/` for
 * uploads, `pages/<invoice>/` for split pages, `results/` for final invoices. Writes go to a temporary
 * file first and are renamed into place, so a crash never leaves half a file that a retry would trust.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { insideDir } from './config.js';

/** Writes `data` to `root/relative` atomically; returns the absolute path. */
export async function writeArtifact(root: string, relative: string, data: Uint8Array | string): Promise<string> {
  const target = insideDir(root, relative);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const temp = `${target}.${randomUUID()}.tmp`;
  await fs.writeFile(temp, data);
  await fs.rename(temp, target);
  return target;
}

/** Reads `root/relative`. */
export async function readArtifact(root: string, relative: string): Promise<Buffer> {
  return fs.readFile(insideDir(root, relative));
}

/** A path as stored in messages: relative to the artifacts folder, with forward slashes. */
export function artifactPath(...parts: string[]): string {
  return parts.join('/');
}
