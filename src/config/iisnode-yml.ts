/**
 * The iisnode.yml adapter: iisnode's own tiny `key: value` syntax (spec/iisnode.md 1.3), which
 * is not YAML. Its settings override every other source. One error fails the whole file.
 */
import { readFileSync } from 'node:fs';
import { NodehostError } from '../errors.js';
import { expandEnvironment, IISNODE_SCHEMA, parseSettingValue, type SettingSpec } from './schema.js';
import type { IisnodeSettingName, IisnodeSettings } from './types.js';

/** YmlOverrides holds the settings an iisnode.yml sets and the line that set each. */
export interface YmlOverrides {
  readonly values: Readonly<Partial<IisnodeSettings>>;
  readonly lines: Readonly<Partial<Record<IisnodeSettingName, number>>>;
}

/** The yml keys, lower-cased; `configOverrides` has none and `debuggerPortRange` is `debugPortRange`. */
const SPECS_BY_YML_KEY: ReadonlyMap<string, SettingSpec> = new Map(
  IISNODE_SCHEMA.filter((spec) => spec.ymlKey !== null).map((spec) => [(spec.ymlKey ?? '').toLowerCase(), spec]),
);

/**
 * readIisnodeYml reads the overrides file. A missing file (or a missing folder on its path)
 * gives undefined, meaning no overrides; any other failure to read it, or a syntax or value
 * error, throws NodehostError NH_ERR_CONFIG_YML naming the file (and line).
 */
export function readIisnodeYml(file: string, env: NodeJS.ProcessEnv): YmlOverrides | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new NodehostError('NH_ERR_CONFIG_YML', `Cannot read ${file}: ${(err as Error).message}`, { cause: err, source: { file, line: 1 } });
  }
  return parseIisnodeYml(text, file, env);
}

/**
 * parseIisnodeYml parses the text of an iisnode.yml exactly as iisnode did:
 * - lines end at `\r` or `\n`; `#` starts a comment anywhere, even inside a value;
 * - only the space character is white space, so a tab is part of a key or value;
 * - blank, space-only and comment-only lines are skipped;
 * - every other line is `key[spaces]:[spaces]value[spaces]`: a line without a colon, starting
 *   with a colon, or with anything but spaces between key and colon is an error;
 * - an empty value leaves the setting unchanged; unknown keys are ignored; keys are
 *   case-insensitive; a later line for the same key wins;
 * - booleans take true/1/yes/false/0/no (case-insensitive, anything else is an error), numbers
 *   are read like C `atol` (`12abc` is 12, `abc` is 0), strings are kept verbatim, quotes too;
 * - `%VAR%` is expanded in logDirectory, node_env, watchedFiles, nodeProcessCommandLine and interceptor.
 * A UTF-8 byte order mark at the start is dropped (nodehost's choice: iisnode would have
 * silently ignored the first key). Throws NodehostError NH_ERR_CONFIG_YML with file:line.
 */
export function parseIisnodeYml(text: string, file: string, env: NodeJS.ProcessEnv): YmlOverrides {
  const values: Record<string, boolean | number | string> = {};
  const lines: Record<string, number> = {};
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // `\r\n` is split as one line end so that line numbers match what editors show; splitting
  // it as two would only add an empty line, which is skipped anyway.
  const rows = source.split(/\r\n|\r|\n/);
  for (let index = 0; index < rows.length; index++) {
    const lineNumber = index + 1;
    const entry = splitLine(rows[index] ?? '', file, lineNumber);
    if (entry === undefined) continue;
    const spec = SPECS_BY_YML_KEY.get(entry.key.toLowerCase());
    if (spec === undefined) continue;
    const parsed = parseSettingValue(spec, entry.value, 'yml');
    if (!parsed.ok) throw ymlError(file, lineNumber, entry.column, `${parsed.message}`);
    values[spec.name] = spec.ymlExpanded && typeof parsed.value === 'string' ? expandEnvironment(parsed.value, env) : parsed.value;
    lines[spec.name] = lineNumber;
  }
  return { values: values as Partial<IisnodeSettings>, lines: lines as Partial<Record<IisnodeSettingName, number>> };
}

/** Splits one line into key and value; undefined when the line is skipped. */
function splitLine(row: string, file: string, lineNumber: number): { key: string; value: string; column: number } | undefined {
  const hash = row.indexOf('#');
  const line = hash < 0 ? row : row.slice(0, hash);
  let at = skipSpaces(line, 0);
  if (at === line.length) return undefined;
  if (line[at] === ':') throw ymlError(file, lineNumber, at + 1, `a line must start with a key before ':'`);
  const keyStart = at;
  while (at < line.length && line[at] !== ' ' && line[at] !== ':') at++;
  const key = line.slice(keyStart, at);
  at = skipSpaces(line, at);
  if (at === line.length) throw ymlError(file, lineNumber, keyStart + 1, `expected 'key: value' but found no ':' after '${key}'`);
  if (line[at] !== ':') throw ymlError(file, lineNumber, at + 1, `only spaces may stand between the key '${key}' and ':'`);
  const valueStart = skipSpaces(line, at + 1);
  let valueEnd = line.length;
  while (valueEnd > valueStart && line[valueEnd - 1] === ' ') valueEnd--;
  if (valueEnd === valueStart) return undefined;
  return { key, value: line.slice(valueStart, valueEnd), column: valueStart + 1 };
}

function skipSpaces(line: string, from: number): number {
  let at = from;
  while (at < line.length && line[at] === ' ') at++;
  return at;
}

function ymlError(file: string, line: number, column: number, message: string): NodehostError {
  return new NodehostError('NH_ERR_CONFIG_YML', message, { source: { file, line, column } });
}
