/**
 * The built-in base configuration, nodehost's stand-in for IIS's applicationHost.config: what
 * every site inherits before its first web.config (spec/rewrite.md 2.3, 2.4, 2.6).
 */

/**
 * BASE_HIDDEN_SEGMENTS are the IIS default hidden segments, lower-cased (segments compare
 * case-insensitively). Requests with any of them as a whole path segment get 404.8.
 */
export const BASE_HIDDEN_SEGMENTS: readonly string[] = Object.freeze([
  'web.config',
  'bin',
  'app_code',
  'app_globalresources',
  'app_localresources',
  'app_webreferences',
  'app_data',
  'app_browsers',
]);

/** BASE_DEFAULT_DOCUMENTS is the IIS default document list, in order and spelled as IIS ships it. */
export const BASE_DEFAULT_DOCUMENTS: readonly string[] = Object.freeze([
  'Default.htm',
  'Default.asp',
  'index.htm',
  'index.html',
  'iisstart.htm',
  'default.aspx',
]);

/** BASE_MIME_MAP is the built-in static MIME map (mime-defaults.ts). */
export { DEFAULT_MIME_MAP as BASE_MIME_MAP } from './mime-defaults.js';
