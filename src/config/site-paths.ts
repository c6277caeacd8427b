/**
 * SitePaths maps a site's URL space onto folders, as IIS's applications and virtual directories
 * do: the site root serves `/`, and each mount (nodehost.yml `applications` and
 * `virtualDirectories`) serves a URL prefix from a folder of its own. The longest prefix wins;
 * URL prefixes match case-insensitively (IIS). An application is also the unit the
 * APPL_PHYSICAL_PATH and APPL_MD_PATH server variables name; a virtual directory belongs to the
 * application whose prefix contains it.
 */
import path from 'node:path';

/** Mount is one URL prefix served from its own folder. */
export interface Mount {
  /** URL prefix without a trailing slash, such as `/node`. */
  readonly url: string;
  /** Absolute folder serving it. */
  readonly dir: string;
  /** True for an application (its own APPL_* values), false for a virtual directory. */
  readonly isApplication: boolean;
}

export class SitePaths {
  readonly root: string;
  /** Longest URL prefix first. */
  readonly mounts: readonly Mount[];
  readonly #lowerUrls: readonly string[];

  constructor(root: string, mounts: readonly Mount[] = []) {
    this.root = root;
    this.mounts = [...mounts].sort((a, b) => b.url.length - a.url.length);
    this.#lowerUrls = this.mounts.map((mount) => mount.url.toLowerCase());
  }

  /** mountOf is the mount serving `urlPath` (decoded, normalised, starting with `/`); undefined for the site root. */
  mountOf(urlPath: string): Mount | undefined {
    if (this.mounts.length === 0) return undefined;
    const lower = urlPath.toLowerCase();
    for (let index = 0; index < this.#lowerUrls.length; index++) {
      const prefix = this.#lowerUrls[index]!;
      if (lower.startsWith(prefix) && (lower.length === prefix.length || lower.charCodeAt(prefix.length) === 47)) return this.mounts[index];
    }
    return undefined;
  }

  /** physicalPath is the file system path of `urlPath` (decoded, normalised, so it never leaves its folder). */
  physicalPath(urlPath: string): string {
    const mount = this.mountOf(urlPath);
    return mount === undefined ? this.root + urlPath : mount.dir + urlPath.slice(mount.url.length);
  }

  /** applicationOf is the application `urlPath` belongs to; undefined for the site's root application. */
  applicationOf(urlPath: string): Mount | undefined {
    const lower = urlPath.toLowerCase();
    for (let index = 0; index < this.mounts.length; index++) {
      const mount = this.mounts[index]!;
      const prefix = this.#lowerUrls[index]!;
      if (mount.isApplication && lower.startsWith(prefix) && (lower.length === prefix.length || lower.charCodeAt(prefix.length) === 47)) return mount;
    }
    return undefined;
  }

  /** urlOf is the URL path of an absolute folder or file inside the site ('' for the root itself); undefined when no mount or the root holds it. */
  urlOf(file: string): string | undefined {
    for (const mount of this.mounts) {
      if (file === mount.dir) return mount.url;
      if (file.startsWith(mount.dir + path.sep)) return mount.url + file.slice(mount.dir.length).split(path.sep).join('/');
    }
    if (file === this.root) return '';
    if (file.startsWith(this.root + path.sep)) {
      const url = file.slice(this.root.length).split(path.sep).join('/');
      // A root folder that a mount hides is not reachable by URL.
      return this.mountOf(url) === undefined ? url : undefined;
    }
    return undefined;
  }
}
