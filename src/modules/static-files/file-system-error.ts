/**
 * Maps file system failures to the error table, shared by the static file handler and the
 * default document.
 */
import type { ErrorCode } from '../../errors.js';

/**
 * fileSystemErrorCode names the error a request gets when stat, open or readdir of its file
 * failed with `err`: a name that does not resolve to anything is 404, missing permission is
 * 403, anything else (EIO, EMFILE, ...) is a server failure.
 */
export function fileSystemErrorCode(err: unknown): ErrorCode {
  switch ((err as NodeJS.ErrnoException | null)?.code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ENAMETOOLONG':
    case 'ELOOP': // a symbolic link loop never leads to a file
      return 'NH_ERR_STATIC_NOT_FOUND';
    case 'EACCES':
    case 'EPERM':
      return 'NH_ERR_STATIC_ACCESS';
    default:
      return 'NH_ERR_STATIC_READ';
  }
}
