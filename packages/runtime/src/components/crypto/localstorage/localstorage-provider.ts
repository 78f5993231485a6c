/**
 * `crypto.dapr.localstorage`: keys are files in the folder `path`, one key per file (`.json` a JWK,
 * `.pem` PEM, anything else decided by content), named by their file name, read on every use so a
 * rotated file takes effect at once, as Dapr's component does.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { MetadataError, requireString } from '../../metadata.js';
import { parseKey } from '../keys.js';
import type { StoredKey } from '../keys.js';
import { LocalCryptoProvider } from '../local-provider.js';

/** Keys from files in a local folder. */
export class LocalStorageCryptoProvider extends LocalCryptoProvider {
  private root = '';

  async init(props: MetadataProperties, _context: ComponentContext): Promise<void> {
    const root = path.normalize(requireString(props, 'path'));
    let stat;
    try {
      stat = await fs.stat(root);
    } catch (err) {
      throw new MetadataError('path', `could not stat path '${root}': ${(err as Error).message}`);
    }
    if (!stat.isDirectory()) throw new MetadataError('path', `path '${root}' is not a directory`);
    this.root = root;
  }

  protected async retrieveKey(keyName: string): Promise<StoredKey> {
    // A key name must not climb out of the folder.
    if (keyName.includes('..')) throw new Error("invalid key path: cannot contain '..'");
    const file = path.join(this.root, keyName);
    let data: Buffer;
    try {
      data = await fs.readFile(file);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message;
      throw new Error(`failed to load key '${keyName}': open ${file}: ${reason}`);
    }
    const ext = path.extname(file).toLowerCase();
    const contentType = ext === '.json' ? 'application/json' : ext === '.pem' ? 'application/x-pem-file' : undefined;
    try {
      return parseKey(data, contentType);
    } catch (err) {
      throw new Error(`failed to parse key from secret: ${(err as Error).message}`);
    }
  }
}
