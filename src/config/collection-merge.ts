/**
 * IIS collection merge (spec/rewrite.md 2.1), shared by every keyed collection nodehost reads:
 * one configuration level's `<add>`, `<remove>` and `<clear/>` applied over the inherited
 * entries, appended or prepended, with a repeated key reported as NH_ERR_CONFIG_DUPLICATE_KEY
 * (IIS 500.19) unless the collection's policy allows it.
 */
import { NodehostError, type SourcePosition } from '../errors.js';

/**
 * CollectionOp is one child of a collection element, in document order. `key` is the
 * collection's unique key in lower case (IIS compares keys case-insensitively).
 */
export type CollectionOp<T> =
  | { readonly kind: 'add'; readonly key: string; readonly value: T; readonly source: SourcePosition }
  | { readonly kind: 'remove'; readonly key: string; readonly source: SourcePosition }
  | { readonly kind: 'clear'; readonly source: SourcePosition };

/** Entry is one entry of a keyed collection: its lower-case key, its value, where it was added (undefined: built in). */
export interface Entry<T> {
  readonly key: string;
  readonly value: T;
  readonly source: SourcePosition | undefined;
}

/** RepeatPolicy decides whether adding `existing`'s key again is allowed, replacing it in place. */
export type RepeatPolicy = (existing: Entry<unknown>) => 'replace' | 'keep-both' | 'error';

/** rejectsRepeat is IIS's default policy: a repeated key is an error. */
export function rejectsRepeat(): 'error' {
  return 'error';
}

/**
 * mergeCollection applies one level's operations to the inherited entries: this level's adds
 * go after them ('append') or before them ('prepend': handlers, default documents); a repeated
 * key follows `onRepeat`. Returns the inherited array itself when there is nothing to apply.
 */
export function mergeCollection<T>(
  inherited: readonly Entry<T>[],
  ops: readonly CollectionOp<T>[],
  order: 'prepend' | 'append',
  section: string,
  keyName: string,
  errors: NodehostError[],
  onRepeat: RepeatPolicy = rejectsRepeat,
): readonly Entry<T>[] {
  if (ops.length === 0) return inherited;
  // `before` holds this layer's own adds in prepend mode; everything else lives in `after`.
  let before: Entry<T>[] = [];
  let after: Entry<T>[] = [...inherited];
  for (const op of ops) {
    if (op.kind === 'clear') {
      before = [];
      after = [];
    } else if (op.kind === 'remove') {
      before = before.filter((entry) => entry.key !== op.key);
      after = after.filter((entry) => entry.key !== op.key);
    } else {
      const entry: Entry<T> = { key: op.key, value: op.value, source: op.source };
      const existing = before.find((e) => e.key === op.key) ?? after.find((e) => e.key === op.key);
      const policy = existing === undefined ? 'add' : onRepeat(existing);
      if (policy === 'error' && existing !== undefined) {
        errors.push(duplicateError(section, keyName, op, existing));
        // Requests under this level fail anyway; merging the entry as if a <remove> preceded it
        // keeps what the author meant visible to `nodehost check` (its applications, its yml).
        before = before.filter((e) => e !== existing);
        after = after.filter((e) => e !== existing);
        if (order === 'prepend') before.push(entry);
        else after.push(entry);
      } else if (policy === 'replace') {
        before = before.map((e) => (e === existing ? entry : e));
        after = after.map((e) => (e === existing ? entry : e));
      } else if (order === 'prepend') {
        before.push(entry);
      } else {
        after.push(entry);
      }
    }
  }
  return Object.freeze(before.concat(after));
}

function duplicateError(section: string, keyName: string, op: CollectionOp<unknown> & { kind: 'add' }, existing: Entry<unknown>): NodehostError {
  const first = existing.source ? `${existing.source.file}:${existing.source.line}` : 'the built-in configuration';
  return new NodehostError('NH_ERR_CONFIG_DUPLICATE_KEY',
    `Cannot add duplicate collection entry to ${section}: ${keyName} '${op.key}' is already defined (at ${first}); add a <remove ${keyName}="..."/> before it`,
    { source: op.source });
}
