import { readFileSync } from 'node:fs';

/**
 * version is nodehost's package version (the `version` of package.json), read once when this
 * module loads. It is what `nodehost --version` prints, what workers get as IISNODE_VERSION
 * and what the iisnode-debug header shows. It is `0.0.0` when package.json cannot be read or
 * has no string version; loading this module never throws.
 */
export const version: string = readVersion();

function readVersion(): string {
  try {
    // src/version.ts and dist/version.js both sit one folder below package.json.
    const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
    const value = (JSON.parse(text) as { version?: unknown }).version;
    return typeof value === 'string' ? value : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
