/**
 * IIS collection merge (spec/rewrite.md 2.1), the one merge of every keyed collection nodehost
 * reads (web.config sections, request filtering, URL Rewrite rules, maps, outbound rules,
 * preconditions and custom tags): one configuration level's `<add>`, `<remove>` and `<clear/>`
 * applied over the inherited entries, appended or prepended, with a repeated key reported as
 * NH_ERR_CONFIG_DUPLICATE_KEY (IIS 500.19) unless the collection's policy allows it.
 *
 * The duplicate rule is the same for URL Rewrite collections as for the others: IIS declares
 * `name` the unique key of `<rules>` (and of maps, outbound rules, preconditions, tag sets)
 * exactly as `fileExtension` is the key of mimeMap, and a rule name added again at a lower
 * level is 500.19 like a repeated mimeMap (spec §1.3, §1.14, §2.1). What nodehost keeps after
 * reporting it (the later entry, as if a `<remove>` preceded it) is never served, since every
 * URL under the level fails; it only lets `nodehost check` show what the author meant. The
 * exceptions are nodehost's own leniencies, passed as `onRepeat` by folder-merge.ts
 * (a built-in mimeMap entry may be overridden; appSettings keep repeated keys).
 */
import { NodehostError, type SourcePosition } from '../errors.js';

/**
 * CollectionOp is one child of a collection element, in document order. `key` is the
 * collection's unique key in lower case (IIS compares keys case-insensitively).
 */
export type CollectionOp<T> =
  | {
      readonly kind: 'add';
      readonly key: string;
      readonly value: T;
      readonly source: SourcePosition;
      /** The key as written, when messages should show it rather than `key` (URL Rewrite names). */
      readonly written?: string;
    }
  | { readonly kind: 'remove'; readonly key: string; readonly source: SourcePosition }
  | { readonly kind: 'clear'; readonly source: SourcePosition };

/** Entry is one entry of a keyed collection: its lower-case key, its value, where it was added (undefined: built in). */
export interface Entry<T> {
  readonly key: string;
  readonly value: T;
  readonly source: SourcePosition | undefined;
}

/** RepeatPolicy decides what adding `existing`'s key again (by `added`) does: replace it in place, keep both, or fail. */
export type RepeatPolicy = (existing: Entry<unknown>, added: CollectionOp<unknown> & { readonly kind: 'add' }) => 'replace' | 'keep-both' | 'error';

/** rejectsRepeat is IIS's default policy: a repeated key is an error. */
export function rejectsRepeat(): 'error' {
  return 'error';
}

/** MergeSpec describes one collection for mergeCollection. */
export interface MergeSpec<T, V> {
  /** Where this level's adds go: after the inherited entries ('append') or before them ('prepend': handlers, default documents). */
  readonly order: 'prepend' | 'append';
  /** The collection's path in messages, e.g. `system.webServer/staticContent`. */
  readonly section: string;
  /** The key attribute in messages, e.g. `fileExtension`. */
  readonly keyName: string;
  /** What a repeated key does; by default it is an error. */
  readonly onRepeat?: RepeatPolicy;
  /**
   * Turns an added value into the stored one (URL Rewrite compiles its entries here, against
   * the entries merged so far); undefined drops the entry, whose errors `build` has reported.
   * Without it the value is stored as it is.
   */
  readonly build?: (value: V) => T | undefined;
}

/**
 * mergeCollection applies one level's operations to the inherited entries in document order, as
 * `spec` says (see the file comment). Returns the inherited array itself when there is nothing
 * to apply, otherwise a new frozen array; never mutates `inherited`.
 */
export function mergeCollection<T, V = T>(
  inherited: readonly Entry<T>[],
  ops: readonly CollectionOp<V>[],
  spec: MergeSpec<T, V>,
  errors: NodehostError[],
): readonly Entry<T>[] {
  if (ops.length === 0) return inherited;
  const onRepeat = spec.onRepeat ?? rejectsRepeat;
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
      const existing = before.find((e) => e.key === op.key) ?? after.find((e) => e.key === op.key);
      const policy = existing === undefined ? 'add' : onRepeat(existing, op);
      if (policy === 'error' && existing !== undefined) {
        errors.push(duplicateError(spec.section, spec.keyName, op, existing));
        // Requests under this level fail anyway; merging the entry as if a <remove> preceded it
        // keeps what the author meant visible to `nodehost check` (its applications, its yml).
        before = before.filter((e) => e !== existing);
        after = after.filter((e) => e !== existing);
      }
      const value = spec.build ? spec.build(op.value) : (op.value as unknown as T);
      if (value === undefined) continue;
      const entry: Entry<T> = { key: op.key, value, source: op.source };
      if (policy === 'replace') {
        before = before.map((e) => (e === existing ? entry : e));
        after = after.map((e) => (e === existing ? entry : e));
      } else if (spec.order === 'prepend') {
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
  return new NodehostError(
    'NH_ERR_CONFIG_DUPLICATE_KEY',
    `Cannot add duplicate collection entry to ${section}: ${keyName} '${op.written ?? op.key}' is already defined (at ${first}); add a <remove ${keyName}="..."/> before it`,
    { source: op.source },
  );
}
