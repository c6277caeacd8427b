/**
 * SiteHandle is what the pipeline and its modules need of a site: its folder, its name and
 * its compiled configuration, which a reload swaps whole.
 */
import type { InboundRule } from '../config/rewrite-types.js';
import type { FolderConfig } from '../config/types.js';
import type { TrustedProxies } from './trusted-proxies.js';

/** SiteHandle is what the pipeline needs of a site; `config` may be swapped whole on reload. */
export interface SiteHandle {
  readonly root: string;
  readonly name: string;
  readonly config: { forPath(urlPath: string): FolderConfig };
  /** The host's global URL Rewrite rules (nodehost.yml), fixed for the server's life; undefined when none. */
  readonly globalRules?: readonly InboundRule[] | undefined;
  /** The balancers whose X-Forwarded-For / X-Forwarded-Proto are believed (nodehost.yml `trustedProxies`); undefined when none. */
  readonly trustedProxies?: TrustedProxies | undefined;
}
