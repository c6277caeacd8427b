/**
 * dropPrivileges switches the host process to nodehost.yml's `user:` and `group:` once its
 * ports are bound, before any worker starts, so workers (spawned by the host) run as that user
 * too. This is how a host started as root serves ports 80 and 443 (the other way is to run
 * unprivileged with CAP_NET_BIND_SERVICE; docs/host-config.md). The group defaults to the user's
 * own group; supplementary groups become the user's (initgroups).
 */
import { readFileSync } from 'node:fs';
import { NodehostError } from '../errors.js';
import type { HostLog } from '../host-log.js';

/** Privileges are the `user` and `group` keys of nodehost.yml. */
export interface Privileges {
  readonly user?: string | undefined;
  readonly group?: string | undefined;
}

/** primaryGroupOf is the group id /etc/passwd gives `user` (a name or a uid); undefined when it has no line for it. */
function primaryGroupOf(user: string): number | undefined {
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === user || uid === user) return Number(gid);
  }
  return undefined;
}

/** asId keeps a numeric id a number (setuid and setgid take names or ids). */
function asId(value: string): string | number {
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** warnIfRoot logs the one warning of a host that runs as root with no `user:` to switch to (its workers run as root too). */
export function warnIfRoot(privileges: Privileges, log: HostLog): void {
  if (privileges.user === undefined && process.getuid?.() === 0)
    log.warn('running as root: workers run as root too; set user: (and group:) in nodehost.yml to drop privileges after binding (docs/host-config.md)', {});
}

/**
 * dropPrivileges switches to `privileges` (nothing to do when no user is given). Throws
 * NH_ERR_SERVER_PRIVILEGES when the switch fails, so the host stops before it starts a worker
 * with the wrong identity.
 */
export function dropPrivileges(privileges: Privileges, log: HostLog): void {
  if (privileges.user === undefined) return;
  const isRoot = process.getuid?.() === 0;
  const { user } = privileges;
  const group = privileges.group ?? primaryGroupOf(user);
  if (group === undefined)
    throw new NodehostError('NH_ERR_SERVER_PRIVILEGES', `cannot find the group of user '${user}' in /etc/passwd: set group: in nodehost.yml`);
  try {
    if (isRoot) (process as unknown as { initgroups(user: string | number, group: string | number): void }).initgroups(asId(user), asId(String(group)));
    process.setgid!(asId(String(group)));
    process.setuid!(asId(user));
  } catch (err) {
    throw new NodehostError(
      'NH_ERR_SERVER_PRIVILEGES',
      `cannot switch to user '${user}' and group '${group}'${isRoot ? '' : ' (the host was not started as root)'}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  log.info('privileges dropped', { user, group, uid: process.getuid!(), gid: process.getgid!() });
}
