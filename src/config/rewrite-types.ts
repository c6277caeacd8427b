/**
 * The compiled, frozen shapes of the URL Rewrite configuration (spec/rewrite.md §1): inbound
 * rules, rewrite maps, outbound rules and their preconditions. rewrite-config.ts reads them
 * from `<rewrite>`, rewrite-compile.ts builds them, the url-rewrite module only reads them.
 */
import type { SourcePosition } from '../errors.js';

/** PatternSyntax is a rule's `patternSyntax` (spec §1.5). */
export type PatternSyntax = 'ECMAScript' | 'Wildcard' | 'ExactMatch';

/**
 * CompiledPattern is a `<match>` or condition pattern compiled once: ECMAScript and Wildcard
 * become a RegExp (Wildcard anchored); ExactMatch keeps the text for a whole-string compare
 * (inbound) or a substring search (outbound bodies).
 */
export interface CompiledPattern {
  readonly source: string;
  readonly syntax: PatternSyntax;
  /** The regular expression (ECMAScript, Wildcard); undefined for ExactMatch. */
  readonly regex: RegExp | undefined;
  /** For ExactMatch: the text, lower-cased when ignoreCase. */
  readonly exact: string;
  /**
   * For an ECMAScript pattern that is plain text (`^/api/`, `^robots\.txt$`, `favicon`): the
   * cheaper string check that finds exactly what its RegExp finds; undefined otherwise.
   */
  readonly literal: LiteralPattern | undefined;
  /**
   * For the ECMAScript patterns most rules start with, `.*` and `(.*)` (optionally after `^`):
   * they match the input up to its first line terminator, which is found without the RegExp;
   * 'group' repeats that text as capture 1. Undefined for any other pattern.
   */
  readonly anyText: 'whole' | 'group' | undefined;
  /**
   * For an ECMAScript RegExp anchored by `^` that starts with plain text (`^api/v1/(.*)$`,
   * `^www\.`): that text, lower-cased when ignoreCase (ASCII only), which an input must start
   * with for the RegExp to match, so most inputs are refused without running it. Undefined otherwise.
   */
  readonly prefix: string | undefined;
  readonly ignoreCase: boolean;
  readonly negate: boolean;
}

/**
 * LiteralPattern is a plain-text pattern: `exact` (`^text$`), `prefix` (`^text`), `suffix`
 * (`text$`) or `contains` (`text`). With ignoreCase the text is ASCII and lower-cased, and only ASCII letters fold, as
 * in a RegExp with the `i` flag and without `u`.
 */
export interface LiteralPattern {
  readonly kind: 'exact' | 'prefix' | 'suffix' | 'contains';
  readonly text: string;
}

/** FunctionName is a built-in string function of the expression language (spec §1.10). */
export type FunctionName = 'ToLower' | 'UrlEncode' | 'UrlDecode' | 'EscapeDataString' | 'HtmlEncode';

/** ExprNode is one piece of a parsed expression (spec §1.8). */
export type ExprNode =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'rule'; readonly index: number }
  | { readonly kind: 'cond'; readonly index: number }
  | { readonly kind: 'var'; readonly name: string }
  | { readonly kind: 'func'; readonly fn: FunctionName; readonly arg: Expr }
  | { readonly kind: 'map'; readonly map: RewriteMap; readonly arg: Expr };

/** Expr is a parsed substitution expression; `constant` is its value when it has no reference. */
export interface Expr {
  readonly source: string;
  readonly nodes: readonly ExprNode[];
  readonly constant: string | undefined;
}

/** RewriteMap is one `<rewriteMap>`: keys compared case-insensitively unless ignoreCase is false. */
export interface RewriteMap {
  readonly name: string;
  readonly defaultValue: string;
  readonly ignoreCase: boolean;
  /** Keys as stored: lower-cased when ignoreCase. */
  readonly entries: ReadonlyMap<string, string>;
}

/** MatchType of a condition (spec §1.6). */
export type MatchType = 'Pattern' | 'IsFile' | 'IsDirectory';

/** Condition is one `<conditions><add>`. */
export interface Condition {
  readonly input: Expr;
  readonly matchType: MatchType;
  /** The pattern for matchType Pattern; undefined otherwise. */
  readonly pattern: CompiledPattern | undefined;
  /** negate for IsFile/IsDirectory (Pattern conditions carry it in `pattern`). */
  readonly negate: boolean;
}

/** ConditionSet is a rule's `<conditions>` element (or a precondition). */
export interface ConditionSet {
  readonly logicalGrouping: 'MatchAll' | 'MatchAny';
  readonly trackAllCaptures: boolean;
  readonly conditions: readonly Condition[];
}

/** ServerVariableSet is one `<serverVariables><set>`; `name` is upper-case. */
export interface ServerVariableSet {
  readonly name: string;
  readonly value: Expr;
  readonly replace: boolean;
}

/** ActionType of an inbound rule (spec §1.11). */
export type ActionType = 'None' | 'Rewrite' | 'Redirect' | 'CustomResponse' | 'AbortRequest';

/** RewriteAction is an inbound rule's `<action>` (a missing one is type None). */
export interface RewriteAction {
  readonly type: ActionType;
  readonly url: Expr;
  readonly appendQueryString: boolean;
  /** Redirect status: 301 (Permanent, default), 302, 303 or 307. */
  readonly redirectStatus: number;
  readonly statusCode: number;
  readonly subStatusCode: number;
  readonly statusReason: string;
  readonly statusDescription: string;
}

/** InboundRule is one compiled `<rule>` of `<rules>` (or `<globalRules>`). */
export interface InboundRule {
  readonly name: string;
  /** A disabled rule keeps its name in the collection but never runs. */
  readonly enabled: boolean;
  /** URL folder of the configuration that declared the rule, ending in `/` (`/`, `/blog/`). */
  readonly scope: string;
  /** scope in lower case, for the case-insensitive prefix test. */
  readonly scopeLower: string;
  readonly source: SourcePosition;
  readonly stopProcessing: boolean;
  readonly match: CompiledPattern;
  readonly conditions: ConditionSet;
  readonly serverVariables: readonly ServerVariableSet[];
  readonly action: RewriteAction;
}

/** PreCondition is a named `<preCondition>` of outbound rules. */
export interface PreCondition {
  readonly name: string;
  readonly conditions: ConditionSet;
}

/** TagAttribute is a (tag, attribute) pair, both lower-case, that filterByTags rewrites. */
export interface TagAttribute {
  readonly tag: string;
  readonly attribute: string;
}

/** TagSet is one `<customTags><tags name>`. */
export interface TagSet {
  readonly name: string;
  readonly tags: readonly TagAttribute[];
}

/** OutboundRule is one compiled `<outboundRules><rule>` (spec §1.15). */
export interface OutboundRule {
  readonly name: string;
  readonly enabled: boolean;
  readonly source: SourcePosition;
  readonly stopProcessing: boolean;
  readonly preCondition: PreCondition | undefined;
  /** RESPONSE_* header name (`content-type` for RESPONSE_CONTENT_TYPE), '' for body rules. */
  readonly header: string;
  /** Tag/attribute pairs to rewrite; empty with `header` '' means the whole body. */
  readonly tags: readonly TagAttribute[];
  readonly pattern: CompiledPattern;
  /** 0 = every occurrence. */
  readonly occurrences: number;
  readonly conditions: ConditionSet;
  /** 'Rewrite' replaces; 'None' only matches (and may stop processing). */
  readonly actionType: 'Rewrite' | 'None';
  readonly value: Expr;
}

/** RewriteConfig is the merged URL Rewrite configuration of one configuration level. */
export interface RewriteConfig {
  /** Distributed inbound rules, parents first. */
  readonly rules: readonly InboundRule[];
  readonly outbound: readonly OutboundRule[];
  /** True when some outbound rule rewrites the body (the response must be buffered). */
  readonly hasBodyRules: boolean;
}
