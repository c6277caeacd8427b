/** Helpers for tests that read a site's W3C access log. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from './logs.js';

/**
 * accessLogLine waits (at most 10 s) for the line of a request to `stem` carrying `probe=<probe>`
 * in its query in the access log folder `dir`, and returns its fields by the name the log's own
 * `#Fields` line gives them.
 */
export async function accessLogLine(dir: string, stem: string, probe: string): Promise<Record<string, string>> {
  const found = await waitFor(
    dir,
    () => {
      if (!fs.existsSync(dir)) return undefined;
      const text = fs
        .readdirSync(dir)
        .map((name) => fs.readFileSync(path.join(dir, name), 'utf8'))
        .join('');
      const line = text.split('\n').find((l) => l.includes(`probe=${probe}`));
      return line === undefined ? undefined : { text, line };
    },
    `the access log line of ${stem}?probe=${probe}`,
    10_000,
  );
  // The W3C header names the fields of the lines after it.
  const fields = /^#Fields: (.*)$/m.exec(found.text)![1]!.split(' ');
  const values = found.line.split(' ');
  const parsed = Object.fromEntries(fields.map((name, i) => [name, values[i]!]));
  assert.equal(parsed['cs-uri-stem'], stem);
  return parsed;
}
