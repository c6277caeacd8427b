/**
 * The shapes a traced rule pass reports through (`nodehost rewrite test`). The rule engine
 * (inbound.ts, evaluate.ts) calls a RewriteTracer only when one is on the RewriteState: a
 * request served normally carries `undefined` and pays one property test per rule, nothing more.
 */
import type { Condition, InboundRule, ServerVariableSet } from '../../config/rewrite-types.js';

/** InboundResult is how a rule pass ended. */
export type InboundResult =
  | { readonly kind: 'continue' }
  | { readonly kind: 'redirect'; readonly status: number; readonly location: string }
  | { readonly kind: 'response'; readonly action: InboundRule['action'] }
  | { readonly kind: 'abort' }
  | { readonly kind: 'proxy'; readonly target: string }
  | { readonly kind: 'bad-url'; readonly url: string };

/**
 * RewriteTracer receives every step of a rule pass, in the order the engine takes them. It must
 * not change the state it is shown: it observes only. Arrays it receives may be reused by the
 * engine afterwards, so a tracer that keeps them copies them.
 */
export interface RewriteTracer {
  /** pass starts a pass over `rules`: the global rules, or the distributed rules of the configuration of `path`. */
  pass(kind: 'global' | 'distributed', path: string, rules: readonly InboundRule[]): void;
  /** skip: the rule does not apply to the URL (not under its scope). */
  skip(rule: InboundRule, path: string): void;
  /** pattern: the rule's `<match>` was tried on `input`; captures undefined when it did not match. */
  pattern(rule: InboundRule, input: string, captures: readonly string[] | undefined): void;
  /** condition: one condition was evaluated; `input` is its expanded input; captures undefined when it failed. */
  condition(condition: Condition, input: string, captures: readonly string[] | undefined): void;
  /** serverVariable: a matched rule's `<set>` ran with this value. */
  serverVariable(set: ServerVariableSet, value: string): void;
  /**
   * ruleEnd: the rule is done. `isMatch` tells whether pattern and conditions passed;
   * `result` is the action's end of the pass (undefined when the pass goes on), `url` the
   * current URL after it.
   */
  ruleEnd(rule: InboundRule, isMatch: boolean, conditionCaptures: readonly string[], result: InboundResult | undefined, url: string): void;
}
