/**
 * The default document (IIS's DefaultDocumentModule, spec/rewrite.md 2.3): what a URL that
 * maps to an existing directory turns into. The engine calls resolveDirectory after URL
 * rewrite and handler mapping, when the handler is the static one and the physical path is a
 * directory.
 */
import { readdir, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import type { RequestContext } from '../../http/request-context.js';
import { isHiddenPath } from '../request-filtering/is-hidden-path.js';
import { isNeverServed } from '../static-files/never-served.js';
import { fileSystemErrorCode } from '../static-files/file-system-error.js';
import { fail } from '../../http/error-outcome.js';

/**
 * DirectoryOutcome is what resolveDirectory decided. `kind` is
 * - 'finished': the response is written (301 courtesy redirect, 403.14, or an error); the
 *   other fields are '';
 * - 'document': a default document was found. The engine sets ctx.path to `urlPath` (the
 *   directory URL plus the document's name as the defaultDocument list spells it; the query
 *   string is untouched) and ctx.physicalPath to `physicalPath` (the name as it is on disk),
 *   and runs handler mapping again, so `index.js` mapped to iisnode runs node.
 */
export interface DirectoryOutcome {
  readonly kind: 'finished' | 'document';
  readonly urlPath: string;
  readonly physicalPath: string;
}

const FINISHED: DirectoryOutcome = Object.freeze({ kind: 'finished', urlPath: '', physicalPath: '' });

/**
 * resolveDirectory handles a request whose ctx.physicalPath is an existing directory:
 * - a URL the static handler never serves (isNeverServed: `/node_modules`, `/.git/`): 404.0,
 *   'finished', so such a folder is neither redirected to nor searched;
 * - defaultDocument disabled (or no configuration): 403.14, 'finished', with or without the
 *   trailing slash;
 * - URL without a trailing slash: 301 to the same URL plus '/' (absolute Location, query
 *   kept), 'finished';
 * - with the slash: the first name of ctx.config.defaultDocument.files that is a regular file
 *   in the directory ('document'); an exact name is preferred, then a case-insensitive match,
 *   because the lists were written for Windows' case-insensitive file system;
 * - no such file: 403.14, 'finished'.
 * It caches nothing: one readdir per call, plus a stat only for entries whose type readdir
 * cannot tell (symbolic links).
 */
export async function resolveDirectory(ctx: RequestContext): Promise<DirectoryOutcome> {
  if (isNeverServed(ctx.path)) {
    ctx.sendError(fail('NH_ERR_STATIC_NOT_FOUND'));
    return FINISHED;
  }
  const config = ctx.config;
  // A disabled section answers 403.14 even without the slash: no redirect (spec 2.3).
  if (config === undefined || !config.defaultDocument.enabled) {
    ctx.sendError(fail('NH_ERR_STATIC_DIRECTORY_LISTING'));
    return FINISHED;
  }
  if (!ctx.path.endsWith('/')) {
    redirectToSlash(ctx);
    return FINISHED;
  }
  if (config.defaultDocument.files.length === 0) {
    ctx.sendError(fail('NH_ERR_STATIC_DIRECTORY_LISTING'));
    return FINISHED;
  }
  const directory = ctx.physicalPath;
  let entries: Dirent[];
  try {
    // One readdir is cheaper than a failing stat per candidate (each failure builds an Error),
    // and it gives the on-disk spellings for the case-insensitive match.
    entries = await readdir(directory, { withFileTypes: true });
  } catch (err) {
    ctx.sendError(fail(fileSystemErrorCode(err)));
    return FINISHED;
  }
  for (const name of config.defaultDocument.files) {
    // A default document is one file of this folder, and it must never unveil a hidden name.
    if (name === '' || name.includes('/') || isHiddenPath(name, config.hiddenSegments) || isNeverServed(name)) continue;
    const onDisk = await findFile(directory, entries, name);
    if (onDisk !== undefined) return { kind: 'document', urlPath: ctx.path + name, physicalPath: join(directory, onDisk) };
  }
  ctx.sendError(fail('NH_ERR_STATIC_DIRECTORY_LISTING'));
  return FINISHED;
}

/**
 * findFile returns the on-disk name of the regular file `name` in `entries`: the exact name
 * when it is a file, else the first entry equal to it case-insensitively that is a file.
 */
async function findFile(directory: string, entries: readonly Dirent[], name: string): Promise<string | undefined> {
  let exact: Dirent | undefined;
  for (const entry of entries) {
    if (entry.name === name) {
      exact = entry;
      break;
    }
  }
  if (exact !== undefined && (await isFileEntry(directory, exact))) return exact.name;
  const lower = name.toLowerCase();
  for (const entry of entries) {
    if (entry !== exact && entry.name.toLowerCase() === lower && (await isFileEntry(directory, entry))) return entry.name;
  }
  return undefined;
}

/** isFileEntry tells whether a directory entry is a regular file, following symbolic links. */
async function isFileEntry(directory: string, entry: Dirent): Promise<boolean> {
  if (entry.isFile()) return true;
  if (entry.isDirectory()) return false;
  // A symbolic link, or a file system that does not report entry types: ask stat.
  try {
    return (await stat(join(directory, entry.name))).isFile();
  } catch {
    return false;
  }
}

/**
 * redirectToSlash answers 301 to ctx's URL plus '/', as IIS's courtesy redirect does: an
 * absolute Location (scheme from the connection, host from the Host header), the query string
 * kept as the client sent it. After a URL rewrite this exposes the rewritten path, as it does
 * on IIS. No body: the Location says it all and HEAD needs no special case.
 */
function redirectToSlash(ctx: RequestContext): void {
  let location = (ctx.isHttps ? 'https://' : 'http://') + requestHost(ctx) + encodePath(ctx.path) + '/';
  if (ctx.hasQuery) location += '?' + ctx.query;
  ctx.status = 301;
  ctx.substatus = 0;
  const res = ctx.res;
  res.statusCode = 301;
  res.setHeader('Location', location);
  res.setHeader('Content-Length', 0);
  res.end();
}

// reg-name, IPv4 or a bracketed IPv6 literal, with an optional port (RFC 3986 3.2.2).
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d*)?$/;

/**
 * requestHost is the authority for an absolute redirect: the Host header (or HTTP/2's
 * :authority) when it is a well-formed host, else the local address and port, so a malformed
 * header can never put a path or user info into the Location.
 */
function requestHost(ctx: RequestContext): string {
  const headers = ctx.req.headers;
  const host = headers.host ?? headers[':authority'];
  if (typeof host === 'string' && HOST.test(host)) return host;
  const address = ctx.localAddress.includes(':') ? `[${ctx.localAddress}]` : ctx.localAddress;
  return `${address}:${ctx.localPort}`;
}

/**
 * encodePath percent-encodes a decoded URL path for a Location header: encodeURI leaves '?'
 * and '#' alone, and in a decoded path those are part of a segment, not delimiters.
 */
function encodePath(path: string): string {
  const encoded = encodeURI(path);
  return encoded.includes('?') || encoded.includes('#') ? encoded.replaceAll('?', '%3F').replaceAll('#', '%23') : encoded;
}
