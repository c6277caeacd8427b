/**
 * serveOptions turns nodehost.yml (HostConfig) and the `serve` command line into the server's
 * options; the command line wins. The same function builds them again when the file is re-read
 * (SIGHUP, a change to the file, the admin API's reload), so a reload sees exactly what a
 * restart would.
 */
import { basename, resolve } from 'node:path';
import { DEFAULT_LIMITS, type HostConfig } from '../config/host-config.js';
import { NodehostError } from '../errors.js';
import type { HostLog } from '../host-log.js';
import type { ServerOptions } from '../server/server.js';
import type { ScriptSite } from './script-site.js';

/** ServeArgs are the `serve` arguments that override the file. */
export interface ServeArgs {
  readonly siteArg?: string | undefined;
  readonly config?: string | undefined;
  readonly port?: number | undefined;
  readonly host?: string | undefined;
  readonly metrics?: boolean | undefined;
  /** `nodehost serve app.js`: the script's folder and the web.config it is served with (read once, at start). */
  readonly script?: ScriptSite | undefined;
}

/** serveOptions builds ServerOptions; throws NH_ERR_CLI_USAGE when the long form meets a site folder or --port. */
export function serveOptions(file: HostConfig, args: ServeArgs, log: HostLog): ServerOptions {
  const { siteArg } = args;
  if (file.sites !== undefined && (siteArg !== undefined || args.port !== undefined)) {
    throw new NodehostError(
      'NH_ERR_CLI_USAGE',
      `${args.config} has 'sites' (the long form): each site names its root and bindings there, so neither a site folder nor --port can be given`,
    );
  }
  const accessLogDir = (root: string, name: string): string =>
    file.logs === undefined ? resolve(root, '..', 'logs', name) : file.logs === '' ? '' : resolve(file.logs, name);
  const siteRoot = args.script?.siteRoot ?? siteArg ?? file.root ?? '.';
  return {
    siteRoot,
    host: args.host ?? file.host ?? '127.0.0.1',
    port: args.port ?? file.port ?? 8080,
    siteName: file.name,
    globalRules: file.globalRules,
    usersFile: file.users,
    hostDefaults: { compression: file.compression, webConfig: args.script?.baseConfig },
    ...(file.logs === undefined ? {} : { accessLogDir: file.logs === '' ? '' : resolve(file.logs, file.name ?? basename(resolve(siteRoot))) }),
    ...(file.sites === undefined
      ? {}
      : {
          sites: file.sites.map((site) => ({
            root: site.root,
            name: site.name,
            accessLogDir: accessLogDir(site.root, site.name),
            bindings: site.bindings,
            tls: site.tls,
            acme: site.acme,
            redirectToHttps: site.redirectToHttps,
            hsts: site.hsts,
            usersFile: site.users,
            mounts: site.mounts,
          })),
          defaultSite: file.defaultSite,
          acme: file.acme,
        }),
    log,
    privileges: { user: file.user, group: file.group },
    trustedProxies: file.trustedProxies,
    metrics: args.metrics === false ? false : (file.admin?.metrics ?? true),
    limits: file.limits ?? DEFAULT_LIMITS,
    followSymlinks: file.followSymlinks ?? 'inside',
    healthPath: file.admin?.healthPath,
  };
}
