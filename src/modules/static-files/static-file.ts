/**
 * What the static file handler knows about one file before it sends a byte: the "stat +
 * headers" half of serving, kept apart from sending the body so a later cache can keep these
 * objects (and small bodies) in memory.
 */
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ErrorCode } from '../../errors.js';
import { fileSystemErrorCode } from './file-system-error.js';

/**
 * StaticFile describes a regular file that may be served: its MIME type passed the mimeMap
 * gate. Immutable; every instance has the same shape.
 */
export class StaticFile {
  /** Absolute path on disk. */
  readonly path: string;
  readonly size: number;
  /** Modification time, as stat reports it (sub-millisecond fraction kept). */
  readonly mtimeMs: number;
  /** Modification time truncated to whole seconds, the precision of HTTP dates. */
  readonly lastModifiedMs: number;
  /** Last-Modified header value (IMF-fixdate). */
  readonly lastModified: string;
  /**
   * ETag header value. Strong, so that If-Range can use it (RFC 9110 8.8.3.2 allows only strong
   * comparison there); derived from size and microsecond mtime, the way nginx does, instead of
   * hashing the content, which would cost a full read.
   */
  readonly etag: string;
  /** Content-Type header value, exactly as the mimeMap gives it (IIS appends no charset). */
  readonly contentType: string;

  /** `etag` replaces the derived tag, for an encoded variant of a file (compression). */
  constructor(path: string, size: number, mtimeMs: number, contentType: string, etag?: string) {
    this.path = path;
    this.size = size;
    this.mtimeMs = mtimeMs;
    this.lastModifiedMs = Math.floor(mtimeMs / 1000) * 1000;
    this.lastModified = new Date(this.lastModifiedMs).toUTCString();
    this.etag = etag ?? `"${size.toString(16)}-${Math.floor(mtimeMs * 1000).toString(16)}"`;
    this.contentType = contentType;
  }

  /** head200 is the header list of a full 200 answer for this file, as writeHead takes it (name, value, ...). */
  head200(): string[] {
    return [
      'Content-Type',
      this.contentType,
      'Content-Length',
      String(this.size),
      'Last-Modified',
      this.lastModified,
      'ETag',
      this.etag,
      'Accept-Ranges',
      'bytes',
    ];
  }

  /** head304 is the header list of a 304 answer for this file: the validators only (RFC 9110 15.4.5). */
  head304(): string[] {
    return ['ETag', this.etag, 'Last-Modified', this.lastModified];
  }
}

/**
 * statStaticFile stats `physicalPath` and returns its StaticFile, or the error the request
 * must get: 404.0 when it is missing or not a regular file (directories, FIFOs and devices are
 * never streamed), 404.3 when its extension has no mimeMap entry, 403/500 for other failures.
 * It writes nothing to any response.
 */
export async function statStaticFile(physicalPath: string, mimeMap: ReadonlyMap<string, string>): Promise<StaticFile | ErrorCode> {
  let stats: Stats;
  try {
    stats = await stat(physicalPath);
  } catch (err) {
    return fileSystemErrorCode(err);
  }
  if (!stats.isFile()) return 'NH_ERR_STATIC_NOT_FOUND';
  const contentType = mimeTypeOf(mimeMap, physicalPath);
  // IIS refuses types it does not know (404.3); this keeps `.yml`, `.env`-like files and
  // source maps of unmapped types private unless the site maps them.
  if (contentType === undefined) return 'NH_ERR_STATIC_MIME_UNKNOWN';
  return new StaticFile(physicalPath, stats.size, stats.mtimeMs, contentType);
}

/**
 * mimeTypeOf looks up the MIME type of a file path in a mimeMap: the lower-cased extension of
 * the last path segment with its dot (`.css`), `.` when the name has no extension (or ends in a
 * dot, which Windows would have stripped), then the `*` entry; undefined when none applies.
 */
export function mimeTypeOf(mimeMap: ReadonlyMap<string, string>, filePath: string): string | undefined {
  const slash = filePath.lastIndexOf('/');
  const dot = filePath.lastIndexOf('.');
  const extension = dot > slash ? filePath.slice(dot).toLowerCase() : '.';
  return mimeMap.get(extension) ?? mimeMap.get('*');
}
