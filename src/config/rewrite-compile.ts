/**
 * RewriteMerge merges and compiles the URL Rewrite collections of one configuration level
 * (spec/rewrite.md §1.14): rules, rewrite maps, outbound rules, preconditions and custom tags
 * append the child's entries after the inherited ones, `<remove>`/`<clear/>` work as in every
 * IIS collection, and adding a name that is already present is an error (the one merge of
 * collection-merge.ts, whose comment says why rules follow the same rule). Each rule is
 * compiled when its layer is applied, against the maps visible at that point, so every error
 * carries the file, the line and the rule name.
 */
import type { ErrorCode, NodehostError } from '../errors.js';
import { constantExpr, ExpressionError, parseExpression, type MapResolver } from './rewrite-expression.js';
import { compilePattern } from './rewrite-pattern.js';
import type { RewriteEntry, RewriteSection } from './rewrite-config.js';
import type {
  ActionType,
  CompiledPattern,
  Condition,
  ConditionSet,
  Expr,
  InboundRule,
  MatchType,
  OutboundRule,
  PatternSyntax,
  PreCondition,
  RewriteAction,
  RewriteConfig,
  RewriteMap,
  ServerVariableSet,
  TagAttribute,
  TagSet,
} from './rewrite-types.js';
import { mergeCollection, type Entry } from './collection-merge.js';
import { AttributeReader, sourcePosition } from './xml-attributes.js';
import type { XmlElement } from './xml.js';

/** RewriteMerge is the URL Rewrite part of one level's merge state (see the file comment). */
export class RewriteMerge {
  private rules: readonly Entry<InboundRule>[];
  private maps: readonly Entry<RewriteMap>[];
  private outbound: readonly Entry<OutboundRule>[];
  private preConditions: readonly Entry<PreCondition>[];
  private customTags: readonly Entry<TagSet>[];
  private frozen: RewriteConfig | undefined | null;

  constructor(from?: RewriteMerge) {
    this.rules = from?.rules ?? [];
    this.maps = from?.maps ?? [];
    this.outbound = from?.outbound ?? [];
    this.preConditions = from?.preConditions ?? [];
    this.customTags = from?.customTags ?? [];
    this.frozen = null;
  }

  /** apply merges one layer's `<rewrite>` section, pushing merge and compile errors to `errors`. */
  apply(section: RewriteSection, errors: NodehostError[]): void {
    this.frozen = null;
    // Every collection merges as any IIS collection does (collection-merge.ts, the duplicate
    // rule included); `build` compiles each entry against what is merged before it.
    this.maps = mergeCollection(
      this.maps,
      section.maps,
      { order: 'append', section: 'system.webServer/rewrite/rewriteMaps', keyName: 'name', build: (e) => compileMap(e, errors) },
      errors,
    );
    this.customTags = mergeCollection(
      this.customTags,
      section.customTags,
      { order: 'append', section: 'outboundRules/customTags', keyName: 'name', build: (e) => compileTagSet(e, errors) },
      errors,
    );
    const resolveMap: MapResolver = (name) => this.maps.find((entry) => entry.key === name.toLowerCase())?.value;
    this.preConditions = mergeCollection(
      this.preConditions,
      section.preConditions,
      { order: 'append', section: 'outboundRules/preConditions', keyName: 'name', build: (e) => compilePreCondition(e, resolveMap, errors) },
      errors,
    );
    this.rules = mergeCollection(
      this.rules,
      section.rules,
      { order: 'append', section: 'system.webServer/rewrite/rules', keyName: 'name', build: (e) => compileInboundRule(e, resolveMap, errors) },
      errors,
    );
    const lookups: OutboundLookups = {
      resolveMap,
      preCondition: (name) => this.preConditions.find((entry) => entry.key === name.toLowerCase())?.value,
      tagSet: (name) => this.customTags.find((entry) => entry.key === name.toLowerCase())?.value,
    };
    this.outbound = mergeCollection(
      this.outbound,
      section.outbound,
      { order: 'append', section: 'system.webServer/rewrite/outboundRules', keyName: 'name', build: (e) => compileOutboundRule(e, lookups, errors) },
      errors,
    );
  }

  /** freeze returns the level's RewriteConfig, or undefined when it has no enabled rule (nothing to run). */
  freeze(): RewriteConfig | undefined {
    if (this.frozen !== null) return this.frozen;
    const rules = this.rules.map((entry) => entry.value).filter((rule) => rule.enabled);
    const outbound = this.outbound.map((entry) => entry.value).filter((rule) => rule.enabled);
    this.frozen =
      rules.length === 0 && outbound.length === 0
        ? undefined
        : Object.freeze({ rules: Object.freeze(rules), outbound: Object.freeze(outbound), hasBodyRules: outbound.some((rule) => rule.header === '') });
    return this.frozen;
  }
}

/**
 * Reporter reads the attributes of one entry with the shared reader (rewrite wording: every
 * message starts with the rule name), plus the expressions and patterns of URL Rewrite.
 */
class Reporter extends AttributeReader {
  constructor(file: string, prefix: string, code: ErrorCode, errors: NodehostError[]) {
    super(file, errors, prefix, 'rewrite', code);
  }
  expr(element: XmlElement, name: string, resolveMap: MapResolver): Expr {
    const attribute = element.attributes.get(name);
    if (!attribute) return constantExpr('');
    try {
      return parseExpression(attribute.value, resolveMap);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      this.fail(attribute, `bad expression in ${name}="${attribute.value}": ${err.message}`);
      return constantExpr('');
    }
  }
  pattern(element: XmlElement, name: string, syntax: PatternSyntax, ignoreCase: boolean, negate: boolean): CompiledPattern {
    const attribute = element.attributes.get(name);
    const source = attribute?.value ?? '';
    try {
      return compilePattern(source, syntax, ignoreCase, negate);
    } catch (err) {
      this.fail(attribute ?? element, `invalid ${syntax} pattern '${source}': ${(err as Error).message}`);
      return compilePattern('', 'ECMAScript', ignoreCase, negate);
    }
  }
}

const SYNTAXES: readonly PatternSyntax[] = ['ECMAScript', 'Wildcard', 'ExactMatch'];
const ACTION_TYPES: readonly ActionType[] = ['None', 'Rewrite', 'Redirect', 'CustomResponse', 'AbortRequest'];
const REDIRECT_TYPES = ['Permanent', 'Found', 'SeeOther', 'Temporary'] as const;
const REDIRECT_STATUS: Record<(typeof REDIRECT_TYPES)[number], number> = { Permanent: 301, Found: 302, SeeOther: 303, Temporary: 307 };
const MATCH_TYPES: readonly MatchType[] = ['Pattern', 'IsFile', 'IsDirectory'];
const GROUPINGS = ['MatchAll', 'MatchAny'] as const;
const CACHE_DIRECTIVES = ['Auto', 'Always', 'Never', 'NotIfRuleMatched'] as const;

/** compileInboundRule compiles one `<rule>` of `<rules>`; undefined when it has errors (they are reported). */
export function compileInboundRule(entry: RewriteEntry, resolveMap: MapResolver, errors: NodehostError[]): InboundRule | undefined {
  const element = entry.element;
  const name = element.attributes.get('name')!.value;
  const r = new Reporter(entry.file, `Rule '${name}'`, 'NH_ERR_REWRITE_RULE', errors);
  r.checkAttributes(element, ['name', 'enabled', 'patternSyntax', 'stopProcessing', 'responseCacheDirective']);
  const enabled = r.bool(element, 'enabled', true);
  const syntax = r.enumValue(element, 'patternSyntax', SYNTAXES, 'ECMAScript');
  const stopProcessing = r.bool(element, 'stopProcessing', false);
  r.enumValue(element, 'responseCacheDirective', CACHE_DIRECTIVES, 'Auto');
  let match: CompiledPattern | undefined;
  let conditions: ConditionSet = NO_CONDITIONS;
  let serverVariables: ServerVariableSet[] = [];
  let action: RewriteAction | undefined;
  for (const child of element.children) {
    switch (child.name) {
      case 'match': {
        r.checkAttributes(child, ['url', 'ignoreCase', 'negate']);
        if (!child.attributes.has('url')) r.fail(child, 'Match must have Url Attribute');
        match = r.pattern(child, 'url', syntax, r.bool(child, 'ignoreCase', true), r.bool(child, 'negate', false));
        break;
      }
      case 'conditions':
        conditions = compileConditions(child, r, syntax, resolveMap, false);
        break;
      case 'serverVariables':
        serverVariables = compileServerVariables(child, r, resolveMap);
        break;
      case 'action':
        action = compileAction(child, r, resolveMap);
        break;
      default:
        r.fail(child, `unknown element <${child.name}> in <rule>`, 'NH_ERR_CONFIG_UNKNOWN_ELEMENT');
    }
  }
  if (r.count > 0) return undefined;
  return Object.freeze({
    name,
    enabled,
    scope: entry.scope,
    scopeLower: entry.scope.toLowerCase(),
    source: sourcePosition(entry.file, element),
    stopProcessing,
    // No <match>: the empty pattern, which matches every input (the Kudu template relies on it).
    match: match ?? compilePattern('', 'ECMAScript', true, false),
    conditions,
    serverVariables: Object.freeze(serverVariables),
    action: action ?? NONE_ACTION,
  });
}

const NO_CONDITIONS: ConditionSet = Object.freeze({ logicalGrouping: 'MatchAll', trackAllCaptures: false, conditions: Object.freeze([]) });

const NONE_ACTION: RewriteAction = Object.freeze({
  type: 'None',
  url: constantExpr(''),
  appendQueryString: true,
  redirectStatus: 301,
  statusCode: 0,
  subStatusCode: 0,
  statusReason: '',
  statusDescription: '',
});

function compileConditions(element: XmlElement, r: Reporter, syntax: PatternSyntax, resolveMap: MapResolver, isPreCondition: boolean): ConditionSet {
  r.checkAttributes(element, isPreCondition ? ['name', 'logicalGrouping', 'patternSyntax'] : ['logicalGrouping', 'trackAllCaptures']);
  const logicalGrouping = r.enumValue(element, 'logicalGrouping', GROUPINGS, 'MatchAll');
  const trackAllCaptures = isPreCondition ? false : r.bool(element, 'trackAllCaptures', false);
  const conditions: Condition[] = [];
  for (const add of element.children) {
    if (add.name !== 'add') {
      r.fail(add, `unknown element <${add.name}> in <${element.name}>`, 'NH_ERR_CONFIG_UNKNOWN_ELEMENT');
      continue;
    }
    r.checkAttributes(add, ['input', 'matchType', 'type', 'pattern', 'ignoreCase', 'negate']);
    // `type` is the old spelling of matchType that the documentation samples still use.
    const matchType = r.enumValue(add, add.attributes.has('matchType') ? 'matchType' : 'type', MATCH_TYPES, 'Pattern');
    const ignoreCase = r.bool(add, 'ignoreCase', true);
    const negate = r.bool(add, 'negate', false);
    if (matchType === 'Pattern') {
      if (!add.attributes.has('input')) r.fail(add, 'Conditions must have an input attribute');
      if (!add.attributes.has('pattern')) r.fail(add, 'Match does not have an associated pattern attribute in condition');
    }
    // IsFile/IsDirectory without an input test the request's physical path (spec §1.6).
    const input = add.attributes.has('input') ? r.expr(add, 'input', resolveMap) : parseExpression('{REQUEST_FILENAME}', resolveMap);
    const pattern = matchType === 'Pattern' ? r.pattern(add, 'pattern', syntax, ignoreCase, negate) : undefined;
    conditions.push(Object.freeze({ input, matchType, pattern, negate }));
  }
  return Object.freeze({ logicalGrouping, trackAllCaptures, conditions: Object.freeze(conditions) });
}

function compileServerVariables(element: XmlElement, r: Reporter, resolveMap: MapResolver): ServerVariableSet[] {
  r.checkAttributes(element, []);
  const out: ServerVariableSet[] = [];
  for (const set of element.children) {
    if (set.name !== 'set') {
      r.fail(set, `unknown element <${set.name}> in <serverVariables>`, 'NH_ERR_CONFIG_UNKNOWN_ELEMENT');
      continue;
    }
    r.checkAttributes(set, ['name', 'value', 'replace']);
    const name = set.attributes.get('name')?.value ?? '';
    if (!/^[A-Za-z0-9_-]+$/.test(name)) {
      r.fail(set, `<set name="${name}"> must name a server variable (letters, digits, '_' and '-')`);
      continue;
    }
    out.push(Object.freeze({ name: name.toUpperCase(), value: r.expr(set, 'value', resolveMap), replace: r.bool(set, 'replace', true) }));
  }
  return out;
}

function compileAction(element: XmlElement, r: Reporter, resolveMap: MapResolver): RewriteAction {
  r.checkAttributes(element, [
    'type',
    'url',
    'appendQueryString',
    'logRewrittenUrl',
    'redirectType',
    'statusCode',
    'subStatusCode',
    'statusReason',
    'statusDescription',
  ]);
  const typeAttribute = element.attributes.get('type');
  // The numeric values of the schema enumeration are accepted too (None=0 ... AbortRequest=4).
  const numeric = typeAttribute && /^[0-4]$/.test(typeAttribute.value.trim()) ? ACTION_TYPES[Number(typeAttribute.value.trim())] : undefined;
  const type = numeric ?? r.enumValue(element, 'type', ACTION_TYPES, 'None');
  const url = element.attributes.get('url');
  if (url !== undefined && url.value === '' && (type === 'Rewrite' || type === 'Redirect')) r.fail(url, 'Url attribute cannot contain an empty string');
  const redirectType = r.enumValue(element, 'redirectType', REDIRECT_TYPES, 'Permanent');
  const statusCode = r.uint(element, 'statusCode', 0, 100, 999);
  if (type === 'CustomResponse' && !element.attributes.has('statusCode')) r.fail(element, 'a CustomResponse action needs a statusCode');
  const statusReason = element.attributes.get('statusReason')?.value ?? '';
  if (/[\r\n]/.test(statusReason)) r.fail(element.attributes.get('statusReason')!, 'statusReason must be one line');
  r.bool(element, 'logRewrittenUrl', false);
  return Object.freeze({
    type,
    url: r.expr(element, 'url', resolveMap),
    appendQueryString: r.bool(element, 'appendQueryString', true),
    redirectStatus: REDIRECT_STATUS[redirectType],
    statusCode,
    subStatusCode: r.uint(element, 'subStatusCode', 0, 0, 65535),
    statusReason,
    statusDescription: element.attributes.get('statusDescription')?.value ?? '',
  });
}

function compileMap(entry: RewriteEntry, errors: NodehostError[]): RewriteMap | undefined {
  const element = entry.element;
  const name = element.attributes.get('name')!.value;
  const r = new Reporter(entry.file, `Rewrite map '${name}'`, 'NH_ERR_REWRITE_RULE', errors);
  r.checkAttributes(element, ['name', 'defaultValue', 'ignoreCase']);
  const ignoreCase = r.bool(element, 'ignoreCase', true);
  const entries = new Map<string, string>();
  for (const add of element.children) {
    if (add.name !== 'add') {
      r.fail(add, `unknown element <${add.name}> in <rewriteMap>`, 'NH_ERR_CONFIG_UNKNOWN_ELEMENT');
      continue;
    }
    r.checkAttributes(add, ['key', 'value']);
    const key = add.attributes.get('key')?.value;
    if (key === undefined) {
      r.missing(add, 'key');
      continue;
    }
    const stored = ignoreCase ? key.toLowerCase() : key;
    if (entries.has(stored)) r.fail(add, `duplicate key '${key}'`, 'NH_ERR_CONFIG_DUPLICATE_KEY');
    entries.set(stored, add.attributes.get('value')?.value ?? '');
  }
  if (r.count > 0) return undefined;
  return Object.freeze({ name, defaultValue: element.attributes.get('defaultValue')?.value ?? '', ignoreCase, entries });
}

function compileTagSet(entry: RewriteEntry, errors: NodehostError[]): TagSet | undefined {
  const element = entry.element;
  const name = element.attributes.get('name')!.value;
  const r = new Reporter(entry.file, `Custom tags '${name}'`, 'NH_ERR_REWRITE_OUTBOUND', errors);
  r.checkAttributes(element, ['name']);
  const tags: TagAttribute[] = [];
  for (const tag of element.children) {
    r.checkAttributes(tag, ['name', 'attribute']);
    const tagName = tag.attributes.get('name')?.value;
    const attribute = tag.attributes.get('attribute')?.value;
    if (tag.name !== 'tag' || !tagName || !attribute) {
      r.fail(tag, 'expected <tag name="..." attribute="..."/>');
      continue;
    }
    tags.push(Object.freeze({ tag: tagName.toLowerCase(), attribute: attribute.toLowerCase() }));
  }
  return r.count > 0 ? undefined : Object.freeze({ name, tags: Object.freeze(tags) });
}

function compilePreCondition(entry: RewriteEntry, resolveMap: MapResolver, errors: NodehostError[]): PreCondition | undefined {
  const element = entry.element;
  const name = element.attributes.get('name')!.value;
  const r = new Reporter(entry.file, `Precondition '${name}'`, 'NH_ERR_REWRITE_OUTBOUND', errors);
  const syntax = r.enumValue(element, 'patternSyntax', SYNTAXES, 'ECMAScript');
  const conditions = compileConditions(element, r, syntax, resolveMap, true);
  return r.count > 0 ? undefined : Object.freeze({ name, conditions });
}

interface OutboundLookups {
  readonly resolveMap: MapResolver;
  readonly preCondition: (name: string) => PreCondition | undefined;
  readonly tagSet: (name: string) => TagSet | undefined;
}

/** The predefined filterByTags flags and the attributes each rewrites (spec §1.15). */
const TAG_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  a: ['href'],
  area: ['href'],
  base: ['href'],
  form: ['action'],
  frame: ['src', 'longdesc'],
  head: ['profile'],
  iframe: ['src', 'longdesc'],
  img: ['src', 'longdesc', 'usemap'],
  input: ['src', 'usemap'],
  link: ['href'],
  script: ['src'],
};

function compileOutboundRule(entry: RewriteEntry, lookups: OutboundLookups, errors: NodehostError[]): OutboundRule | undefined {
  const element = entry.element;
  const name = element.attributes.get('name')!.value;
  const r = new Reporter(entry.file, `Outbound rule '${name}'`, 'NH_ERR_REWRITE_OUTBOUND', errors);
  r.checkAttributes(element, ['name', 'preCondition', 'enabled', 'stopProcessing', 'patternSyntax', 'rewriteBeforeCache']);
  const enabled = r.bool(element, 'enabled', true);
  const syntax = r.enumValue(element, 'patternSyntax', SYNTAXES, 'ECMAScript');
  const stopProcessing = r.bool(element, 'stopProcessing', false);
  let preCondition: PreCondition | undefined;
  const preName = element.attributes.get('preCondition')?.value ?? '';
  if (preName !== '') {
    preCondition = lookups.preCondition(preName);
    if (preCondition === undefined) r.fail(element.attributes.get('preCondition')!, `precondition '${preName}' is not defined in scope`);
  }
  let header = '';
  let tags: TagAttribute[] = [];
  let pattern: CompiledPattern | undefined;
  let occurrences = 0;
  let conditions: ConditionSet = NO_CONDITIONS;
  let actionType: 'Rewrite' | 'None' = 'None';
  let value: Expr = constantExpr('');
  for (const child of element.children) {
    if (child.name === 'match') {
      r.checkAttributes(child, ['filterByTags', 'customTags', 'pattern', 'serverVariable', 'negate', 'ignoreCase', 'occurrences']);
      const variable = child.attributes.get('serverVariable')?.value ?? '';
      if (variable !== '') {
        if (!/^RESPONSE_[A-Za-z0-9_]+$/i.test(variable))
          r.fail(child.attributes.get('serverVariable')!, `serverVariable '${variable}' must be a RESPONSE_<header> name`);
        header = variable.slice(9).replaceAll('_', '-').toLowerCase();
      }
      tags = compileTagFilter(child, r, lookups);
      if (header === '' && tags.length === 0 && syntax === 'Wildcard') r.fail(child, 'Wildcard patterns cannot be used to rewrite the whole response body');
      if (!child.attributes.has('pattern')) r.missing(child, 'pattern');
      pattern = r.pattern(child, 'pattern', syntax, r.bool(child, 'ignoreCase', true), r.bool(child, 'negate', false));
      occurrences = r.uint(child, 'occurrences', 0, 0, 1_000_000);
    } else if (child.name === 'conditions') {
      conditions = compileConditions(child, r, syntax, lookups.resolveMap, false);
    } else if (child.name === 'action') {
      r.checkAttributes(child, ['type', 'value', 'replace']);
      actionType = r.enumValue(child, 'type', ['Rewrite', 'None'] as const, 'None');
      value = r.expr(child, 'value', lookups.resolveMap);
      r.bool(child, 'replace', true);
    } else {
      r.fail(child, `unknown element <${child.name}> in outbound <rule>`, 'NH_ERR_CONFIG_UNKNOWN_ELEMENT');
    }
  }
  if (pattern === undefined) r.fail(element, 'an outbound rule needs a <match>');
  if (r.count > 0) return undefined;
  return Object.freeze({
    name,
    enabled,
    source: sourcePosition(entry.file, element),
    stopProcessing,
    preCondition,
    header,
    tags: Object.freeze(tags),
    pattern: pattern!,
    occurrences,
    conditions,
    actionType,
    value,
  });
}

function compileTagFilter(match: XmlElement, r: Reporter, lookups: OutboundLookups): TagAttribute[] {
  const attribute = match.attributes.get('filterByTags');
  if (!attribute || attribute.value.trim() === '' || attribute.value.trim().toLowerCase() === 'none') return [];
  const out: TagAttribute[] = [];
  for (const raw of attribute.value.split(',')) {
    const flag = raw.trim().toLowerCase();
    if (flag === '' || flag === 'none') continue;
    if (flag === 'customtags') {
      const setName = match.attributes.get('customTags')?.value ?? '';
      const set = lookups.tagSet(setName);
      if (set === undefined) r.fail(match, `custom tags '${setName}' are not defined in scope`);
      else out.push(...set.tags);
      continue;
    }
    const attributes = TAG_ATTRIBUTES[flag];
    if (attributes === undefined) {
      r.fail(attribute, `filterByTags value '${raw.trim()}' was not recognized`, 'NH_ERR_CONFIG_BAD_VALUE');
      continue;
    }
    for (const name of attributes) out.push({ tag: flag, attribute: name });
  }
  return out;
}
