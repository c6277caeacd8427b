/**
 * XML in the host configuration: some nodehost.yml keys (`globalRules`, `compression`) hold
 * what IIS keeps in applicationHost.config, either inline (the value starts with `<`) or as a
 * path to an XML file relative to nodehost.yml's folder. readHostXml gets the text and where it
 * starts; throwHostXmlErrors turns the errors of reading it into the one exception loading
 * nodehost.yml throws.
 */
import { readFileSync } from 'node:fs';
import { NodehostError, type SourcePosition } from '../errors.js';
import { decodeConfigText } from './web-config.js';

/** HostXml is the XML of one nodehost.yml key: its text, the file errors name, and the line of that file where the text starts. */
export interface HostXml {
  readonly text: string;
  readonly file: string;
  readonly firstLine: number;
  /** The XML was written inside nodehost.yml (its columns lost their YAML indentation). */
  readonly isInline: boolean;
}

/**
 * readHostXml reads the value of nodehost.yml key `key`: inline XML when it starts with `<`
 * (`at` is the key's position, `firstLine` where the XML starts), otherwise the file it names,
 * resolved with `resolvePath`. Undefined for an empty value. Throws NH_ERR_CONFIG_HOST naming
 * the key's line when the file cannot be read.
 */
export function readHostXml(key: string, value: string, at: SourcePosition, firstLine: number, resolvePath: (relative: string) => string): HostXml | undefined {
  if (value.trim() === '') return undefined;
  if (value.trimStart().startsWith('<')) return { text: value, file: at.file, firstLine, isInline: true };
  const file = resolvePath(value.trim());
  try {
    return { text: decodeConfigText(readFileSync(file)), file, firstLine: 1, isInline: false };
  } catch (err) {
    throw new NodehostError('NH_ERR_CONFIG_HOST', `${key}: cannot read ${file}: ${(err as Error).message}`, { cause: err, source: at });
  }
}

/**
 * throwHostXmlErrors throws the first of `errors` in document order, its message naming how
 * many more there are and listing them; every error names file:line. Inline XML loses its
 * YAML indentation, so its columns would mislead and are dropped.
 */
export function throwHostXmlErrors(errors: readonly NodehostError[], isInline: boolean): never {
  const sorted = [...errors]
    .sort((a, b) => (a.source?.line ?? 0) - (b.source?.line ?? 0) || (a.source?.column ?? 0) - (b.source?.column ?? 0))
    .map((err) => (isInline && err.source ? new NodehostError(err.code, err.message, { source: { file: err.source.file, line: err.source.line } }) : err));
  const first = sorted[0]!;
  if (sorted.length === 1) throw first;
  const rest = sorted
    .slice(1)
    .map((err) => `\n  ${err.toString()}`)
    .join('');
  throw new NodehostError(first.code, `${first.message}; ${sorted.length - 1} more:${rest}\n `, { ...(first.source ? { source: first.source } : {}) });
}
