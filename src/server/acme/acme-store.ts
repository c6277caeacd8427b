/**
 * AcmeStore is the `acme: { storage }` folder: per directory, the account key and one PEM file
 * per site holding the site's private key and certificate chain together, so a certificate is
 * replaced by one rename and a reader never sees a key of one with the chain of another.
 *
 *   <storage>/<directory host and path>/account.key
 *   <storage>/<directory host and path>/sites/<site>.pem
 *
 * Folders are 0700 and files 0600: they hold private keys.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** folderOf names a directory URL's folder: `127.0.0.1_14000_dir` for https://127.0.0.1:14000/dir. */
export function folderOf(directory: string): string {
  const url = new URL(directory);
  return `${url.host}${url.pathname}`.replace(/[^a-zA-Z0-9.-]+/g, '_').replace(/_+$/, '');
}

export class AcmeStore {
  readonly folder: string;

  constructor(storage: string, directory: string) {
    this.folder = join(storage, folderOf(directory));
    for (const folder of [storage, this.folder, join(this.folder, 'sites')]) {
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      chmodSync(folder, 0o700);
    }
  }

  /** sitePem is the file a site's key and chain are kept in (and served from). */
  sitePem(site: string): string {
    return join(this.folder, 'sites', `${site.replace(/[^a-zA-Z0-9.-]+/g, '_')}.pem`);
  }

  /** read is a file's content, or undefined when there is none. */
  read(file: string): string | undefined {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** write replaces a file by rename (mode 0600 from the start). */
  write(file: string, content: string): void {
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, content, { mode: 0o600 });
    renameSync(temporary, file);
  }

  get accountKeyFile(): string {
    return join(this.folder, 'account.key');
  }
}
