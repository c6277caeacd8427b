/**
 * Reads `system.webServer/rewrite` of one web.config place (a file's top level or one
 * `<location>`) into ordered collection operations (spec/rewrite.md §1.1). Each entry keeps
 * its XML element: rules are compiled by rewrite-compile.ts when the configuration levels are
 * merged, because an expression may name a rewrite map inherited from a parent level.
 */
import type { NodehostError } from '../errors.js';
import type { CollectionOp } from './collection-merge.js';
import { AttributeReader, configError, sourcePosition } from './xml-attributes.js';
import type { XmlElement } from './xml.js';

/** RewriteEntry is one collection entry as written: the element, its file and its URL scope. */
export interface RewriteEntry {
  readonly element: XmlElement;
  readonly file: string;
  /** URL folder of the configuration place, ending in `/`. */
  readonly scope: string;
}

/** RewriteSection holds the `<rewrite>` collections of one configuration place, in document order. */
export interface RewriteSection {
  readonly rules: CollectionOp<RewriteEntry>[];
  readonly maps: CollectionOp<RewriteEntry>[];
  readonly outbound: CollectionOp<RewriteEntry>[];
  readonly preConditions: CollectionOp<RewriteEntry>[];
  readonly customTags: CollectionOp<RewriteEntry>[];
}

/** newRewriteSection returns an empty RewriteSection. */
export function newRewriteSection(): RewriteSection {
  return { rules: [], maps: [], outbound: [], preConditions: [], customTags: [] };
}

/**
 * readRewriteSection appends the collections of a `<rewrite>` element to `out`, and structural
 * errors (unknown elements, missing names) to `errors`. `<globalRules>` and
 * `<allowedServerVariables>` belong to the host level: the first is an error in web.config
 * (its rules would silently not run), the second is accepted and ignored (nodehost allows
 * every variable, spec §1.12). `<providers>` is ignored.
 */
export function readRewriteSection(element: XmlElement, file: string, scope: string, out: RewriteSection, errors: NodehostError[]): void {
  for (const child of element.children) {
    switch (child.name) {
      case 'rules':
        readKeyed(child, file, scope, 'rule', 'name', out.rules, errors, 'system.webServer/rewrite/rules', RULES_ATTRIBUTES);
        break;
      case 'rewriteMaps':
        readKeyed(child, file, scope, 'rewriteMap', 'name', out.maps, errors, 'system.webServer/rewrite/rewriteMaps', NONE);
        break;
      case 'outboundRules':
        for (const part of child.children) {
          if (part.name === 'preConditions')
            readKeyed(part, file, scope, 'preCondition', 'name', out.preConditions, errors, 'system.webServer/rewrite/outboundRules/preConditions', NONE);
          else if (part.name === 'customTags')
            readKeyed(part, file, scope, 'tags', 'name', out.customTags, errors, 'system.webServer/rewrite/outboundRules/customTags', NONE);
        }
        readKeyed(child, file, scope, 'rule', 'name', out.outbound, errors, 'system.webServer/rewrite/outboundRules', OUTBOUND_ATTRIBUTES, OUTBOUND_CHILDREN);
        break;
      case 'globalRules':
        errors.push(
          configError(
            'NH_ERR_REWRITE_RULE',
            file,
            child,
            '<globalRules> can only be set at the host level (nodehost.yml), not in web.config; use <rules> here',
          ),
        );
        break;
      case 'allowedServerVariables':
      case 'providers':
        break;
      default:
        errors.push(configError('NH_ERR_CONFIG_UNKNOWN_ELEMENT', file, child, `Unknown element <${child.name}> in system.webServer/rewrite`));
    }
  }
}

/**
 * readGlobalRewriteSection reads the host-level `<rewrite>` element of the host configuration
 * (nodehost.yml `globalRules`, spec/rewrite.md §1.14): `<globalRules>` go to `out.rules` with
 * scope `/`, `<rewriteMaps>` to `out.maps`. `<allowedServerVariables>` and `<providers>` are
 * ignored as in web.config; `<rules>` and `<outboundRules>` are errors there, because nodehost
 * has no server-wide distributed rules and they would silently not run.
 */
export function readGlobalRewriteSection(element: XmlElement, file: string, out: RewriteSection, errors: NodehostError[]): void {
  for (const child of element.children) {
    switch (child.name) {
      case 'globalRules':
        readKeyed(child, file, '/', 'rule', 'name', out.rules, errors, 'system.webServer/rewrite/globalRules', NONE);
        break;
      case 'rewriteMaps':
        readKeyed(child, file, '/', 'rewriteMap', 'name', out.maps, errors, 'system.webServer/rewrite/rewriteMaps', NONE);
        break;
      case 'allowedServerVariables':
      case 'providers':
        break;
      case 'rules':
      case 'outboundRules':
        errors.push(
          configError(
            'NH_ERR_REWRITE_RULE',
            file,
            child,
            `<${child.name}> is not read from the host configuration (only <globalRules> and <rewriteMaps>); put it in the site's web.config`,
          ),
        );
        break;
      default:
        errors.push(configError('NH_ERR_CONFIG_UNKNOWN_ELEMENT', file, child, `Unknown element <${child.name}> in system.webServer/rewrite`));
    }
  }
}

function readKeyed(
  element: XmlElement,
  file: string,
  scope: string,
  addName: string,
  keyName: string,
  out: CollectionOp<RewriteEntry>[],
  errors: NodehostError[],
  where: string,
  allowed: ReadonlySet<string>,
  ignoredChildren: ReadonlySet<string> = NONE,
): void {
  const r = new AttributeReader(file, errors, where);
  r.checkAttributes(element, allowed);
  for (const child of element.children) {
    if (child.name === addName) {
      const key = child.attributes.get(keyName)?.value;
      if (key === undefined || key === '') {
        r.missing(child, keyName);
        continue;
      }
      out.push({ kind: 'add', key: key.toLowerCase(), written: key, value: { element: child, file, scope }, source: sourcePosition(file, child) });
    } else if (child.name === 'remove') {
      const key = r.require(child, keyName);
      if (key !== undefined) out.push({ kind: 'remove', key: key.toLowerCase(), source: sourcePosition(file, child) });
    } else if (child.name === 'clear') {
      out.push({ kind: 'clear', source: sourcePosition(file, child) });
    } else if (!ignoredChildren.has(child.name)) {
      errors.push(configError('NH_ERR_CONFIG_UNKNOWN_ELEMENT', file, child, `Unknown element <${child.name}> in ${where}`));
    }
  }
}

const NONE: ReadonlySet<string> = new Set();
const RULES_ATTRIBUTES: ReadonlySet<string> = new Set(['useOriginalURLEncoding']);
const OUTBOUND_ATTRIBUTES: ReadonlySet<string> = new Set(['rewriteBeforeCache']);
const OUTBOUND_CHILDREN: ReadonlySet<string> = new Set(['preConditions', 'customTags']);
