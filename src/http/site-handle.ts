/**
 * SiteHandle is what the pipeline and its modules need of a site: its folder, its name and
 * its compiled configuration, which a reload swaps whole.
 */
import type { FollowSymlinks } from '../config/host-config.js';
import type { InboundRule } from '../config/rewrite-types.js';
import type { SitePaths } from '../config/site-paths.js';
import type { FolderConfig } from '../config/types.js';
import type { TrustedProxies } from './trusted-proxies.js';

/** SiteHandle is what the pipeline needs of a site; `config` may be swapped whole on reload. */
export interface SiteHandle {
  readonly root: string;
  readonly name: string;
  readonly config: { forPath(urlPath: string): FolderConfig };
  /** The host's global URL Rewrite rules (nodehost.yml), fixed for the server's life; undefined when none. */
  readonly globalRules?: readonly InboundRule[] | undefined;
  /** The site's applications and virtual directories (nodehost.yml); undefined: the root serves every URL. */
  readonly paths?: SitePaths | undefined;
  /** The site's number in the host configuration, from 1 (IIS's site ID, in APPL_MD_PATH); undefined: 1. */
  readonly id?: number | undefined;
  /** The balancers whose X-Forwarded-For / X-Forwarded-Proto are believed (nodehost.yml `trustedProxies`); undefined when none. */
  readonly trustedProxies?: TrustedProxies | undefined;
  /** Which symbolic links static files may be reached through (nodehost.yml `followSymlinks`); `inside` when absent. */
  readonly followSymlinks?: FollowSymlinks | undefined;
}
