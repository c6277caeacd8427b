/**
 * UsersFile is a site's users file (nodehost.yml `users:`): one user a line,
 * `name:hash[:role1,role2]`, blank lines and `#` comments ignored. Hashes are scrypt or bcrypt
 * (password-hash.ts). It re-reads the file when its modification time, size or inode changed,
 * checked (one stat) on each login attempt and never for anonymous requests, so `nodehost user
 * add` takes effect on a running server at once. A bad line is skipped and reported once to `onError` with file:line.
 */
import { readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { NodehostError } from '../../errors.js';
import { hashKind } from './password-hash.js';

/** UserEntry is one line of a users file. */
export interface UserEntry {
  /** The name as written (AUTH_USER shows it so). */
  readonly name: string;
  readonly hash: string;
  /** Lower-case roles. */
  readonly roles: readonly string[];
}

/** parseUsersFile reads the text of a users file; problems go to `errors` (the line is skipped). Names compare without case. */
export function parseUsersFile(text: string, file: string, errors: NodehostError[] = []): Map<string, UserEntry> {
  const users = new Map<string, UserEntry>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [name = '', hash = '', roles = '', ...rest] = line.split(':');
    const source = { file, line: i + 1 };
    if (name === '' || rest.length > 0 || hashKind(hash) === undefined) {
      errors.push(
        new NodehostError('NH_ERR_USERS_FILE', `${file}:${i + 1}: expected name:hash[:roles] with a $scrypt$ or bcrypt ($2y$, $2a$, $2b$) hash`, { source }),
      );
      continue;
    }
    users.set(
      name.toLowerCase(),
      Object.freeze({
        name,
        hash,
        roles: Object.freeze(
          roles
            .split(',')
            .map((role) => role.trim().toLowerCase())
            .filter((role) => role !== ''),
        ),
      }),
    );
  }
  return users;
}

/** formatUserLine renders one line of a users file. */
export function formatUserLine(name: string, hash: string, roles: readonly string[]): string {
  return roles.length === 0 ? `${name}:${hash}` : `${name}:${hash}:${roles.join(',')}`;
}

/**
 * writeUserEntry adds or replaces the line of `name` in `file` (created when missing), keeping
 * every other line as it was, and writes through a temporary file so a reader never sees half.
 */
export function writeUserEntry(file: string, name: string, hash: string, roles: readonly string[]): void {
  let lines: string[] = [];
  try {
    lines = readFileSync(file, 'utf8').split(/\r?\n/);
    if (lines[lines.length - 1] === '') lines.pop();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const entry = formatUserLine(name, hash, roles);
  const index = lines.findIndex((line) => line.split(':')[0]!.trim().toLowerCase() === name.toLowerCase() && !line.trim().startsWith('#'));
  if (index === -1) lines.push(entry);
  else lines[index] = entry;
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, lines.join('\n') + '\n', { mode: 0o600 });
  renameSync(temporary, file);
}

/** UsersFile holds the users of one file; see the file comment. */
export class UsersFile {
  readonly file: string;
  readonly #onError: (error: NodehostError) => void;
  #users = new Map<string, UserEntry>();
  #stamp = '';
  /** Increases on every re-read, so caches of verified logins know to drop their entries. */
  generation = 0;

  constructor(file: string, onError: (error: NodehostError) => void) {
    this.file = file;
    this.#onError = onError;
    this.#refresh();
  }

  /** find returns the user named `name` (without case), re-reading the file first when it changed. */
  find(name: string): UserEntry | undefined {
    this.#refresh();
    return this.#users.get(name.toLowerCase());
  }

  #refresh(): void {
    let stamp: string;
    try {
      const stat = statSync(this.file);
      stamp = `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
    } catch (err) {
      stamp = 'missing';
      if (this.#stamp !== stamp)
        this.#onError(new NodehostError('NH_ERR_USERS_FILE', `cannot read the users file ${this.file}: ${(err as Error).message}`, { cause: err }));
    }
    if (stamp === this.#stamp) return;
    this.#stamp = stamp;
    this.generation++;
    if (stamp === 'missing') {
      this.#users = new Map();
      return;
    }
    const errors: NodehostError[] = [];
    try {
      this.#users = parseUsersFile(readFileSync(this.file, 'utf8'), this.file, errors);
    } catch (err) {
      this.#users = new Map();
      errors.push(new NodehostError('NH_ERR_USERS_FILE', `cannot read the users file ${this.file}: ${(err as Error).message}`, { cause: err }));
    }
    for (const error of errors) this.#onError(error);
  }
}
