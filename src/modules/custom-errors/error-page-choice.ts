/**
 * Which error page a client gets (spec/rewrite.md §2.5): httpErrors' errorMode decides between
 * the detailed page and the custom one, and the `<error>` entries (then defaultPath) name the
 * custom page of a status. Shared by the engine's error step, for nodehost's own errors, and
 * by the existing-response filter, for error responses written by node.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { HttpErrorPage } from '../../config/types.js';
import type { RequestContext } from '../../http/request-context.js';

/**
 * isDetailedFor is true when this client gets detailed error pages: errorMode Detailed, or
 * DetailedLocalOnly (the default) and a client that may see internals (on this machine, or
 * authenticated and not refused by the authorization rules: DESIGN §4). Without a
 * configuration (a request that failed before one was attached) nobody does.
 */
export function isDetailedFor(ctx: RequestContext): boolean {
  const mode = ctx.config?.httpErrors?.errorMode;
  if (mode === undefined) return false;
  return mode === 'Detailed' || (mode === 'DetailedLocalOnly' && ctx.maySeeInternals);
}

/**
 * customErrorPage returns the custom page for `status`.`substatus` when this client gets
 * custom pages (not isDetailedFor) and one is configured: the entry for the exact substatus,
 * else the entry for every substatus (-1), else defaultPath; undefined otherwise.
 */
export function customErrorPage(ctx: RequestContext, status: number, substatus: number): HttpErrorPage | undefined {
  const httpErrors = ctx.config?.httpErrors;
  if (httpErrors === undefined || isDetailedFor(ctx)) return undefined;
  let any: HttpErrorPage | undefined;
  for (const page of httpErrors.errors) {
    if (page.statusCode !== status) continue;
    if (page.subStatusCode === substatus) return page;
    if (page.subStatusCode === -1) any ??= page;
  }
  return any ?? httpErrors.defaultPage;
}

/** hasCustomPages is a cheap test: does this configuration name any custom page at all? */
export function hasCustomPages(ctx: RequestContext): boolean {
  const httpErrors = ctx.config?.httpErrors;
  return httpErrors !== undefined && (httpErrors.errors.length > 0 || httpErrors.defaultPage !== undefined);
}

/**
 * readErrorPageFile reads the file of a File page; with prefixLanguageFilePath, from the first
 * folder named by the client's Accept-Language tags (in order), then `en-US`. Undefined when
 * no file can be read.
 */
export async function readErrorPageFile(ctx: RequestContext, page: HttpErrorPage): Promise<Buffer | undefined> {
  const candidates: string[] = [];
  if (page.languageRoot === '') {
    candidates.push(page.file);
  } else {
    const relative = path.relative(page.languageRoot, page.file);
    const header = ctx.req.headers['accept-language'] ?? '';
    for (const part of header.split(',')) {
      const tag = part.split(';')[0]!.trim();
      // A tag is letters, digits and hyphens: never a path.
      if (/^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/.test(tag)) candidates.push(path.join(page.languageRoot, tag, relative));
    }
    candidates.push(path.join(page.languageRoot, 'en-US', relative));
  }
  for (const file of candidates) {
    try {
      return await readFile(file);
    } catch {
      // Try the next language; a missing page falls back to nodehost's own.
    }
  }
  return undefined;
}

/** errorPageContentType is the Content-Type of a File page: the MIME map's type for its extension, text/html when it has none. */
export function errorPageContentType(ctx: RequestContext, page: HttpErrorPage): string {
  const extension = path.extname(page.file).toLowerCase();
  if (extension === '.htm' || extension === '.html' || extension === '') return 'text/html; charset=utf-8';
  return ctx.config?.mimeMap.get(extension) ?? 'text/html; charset=utf-8';
}
