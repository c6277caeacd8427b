/** A strict reader of the Prometheus text exposition format, for the /metrics tests. */
import assert from 'node:assert/strict';

/** Sample is one line of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * parsePrometheus reads the text format (version 0.0.4) strictly: every line is a HELP, a TYPE,
 * blank, or a sample of a family whose TYPE came first; it throws on anything else.
 */
export function parsePrometheus(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
  const sample = new RegExp(`^(${NAME})(?:\\{(${LABEL}(?:,${LABEL})*)?\\})? (-?(?:\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?|\\d*\\.\\d+)|NaN|\\+Inf|-Inf)$`);
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    let match = new RegExp(`^# HELP (${NAME}) .*$`).exec(line);
    if (match) continue;
    match = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (match) {
      assert.ok(!types.has(match[1]!), `TYPE ${match[1]} twice`);
      types.set(match[1]!, match[2]!);
      continue;
    }
    match = sample.exec(line);
    assert.ok(match, `not a valid exposition line: ${JSON.stringify(line)}`);
    const name = match[1]!;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(family), `${name} has no TYPE before it`);
    if (family !== name) assert.equal(types.get(family), 'histogram', `${name} belongs to a histogram`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name, labels, value: Number(match[3]) });
  }
  return { types, samples };
}

/** sum adds the values of the samples named `name` whose labels include `labels`. */
export function sum(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((total, s) => total + s.value, 0);
}
