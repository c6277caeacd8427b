/**
 * Global URL Rewrite rules (spec/rewrite.md §1.1, §1.14): the `<globalRules>` that IIS keeps in
 * applicationHost.config come, in nodehost, from the host configuration (nodehost.yml key
 * `globalRules`), either as a path to an XML file or as inline XML. They are compiled by the
 * same compiler as the distributed rules, with scope `/` (their input is the whole URL path
 * without the leading `/`), and may use the `<rewriteMaps>` written beside them.
 *
 * Accepted shapes of the XML (so the section of applicationHost.config can be pasted as is):
 * `<globalRules>`, `<rewrite>`, `<system.webServer>` or `<configuration>` as the root element.
 * Inside `<configuration>` and `<system.webServer>` every other section is ignored. One or
 * more bare `<rule>` elements (what IIS Manager shows and people copy) read as if they were
 * inside `<globalRules>`.
 */
import { NodehostError, type SourcePosition } from '../errors.js';
import { RewriteMerge } from './rewrite-compile.js';
import { newRewriteSection, readGlobalRewriteSection } from './rewrite-config.js';
import type { InboundRule } from './rewrite-types.js';
import { readHostXml, throwHostXmlErrors } from './host-xml.js';
import { configError } from './xml-attributes.js';
import { parseXml, type XmlElement } from './xml.js';

/** GlobalRulesResult is the outcome of compiling global rules: the enabled rules (undefined when none) or the errors. */
export interface GlobalRulesResult {
  /** Enabled global rules in document order; undefined when there is none (nothing to run). */
  readonly rules: readonly InboundRule[] | undefined;
  /** Every error, each naming file:line (and the rule, for rule errors). */
  readonly errors: readonly NodehostError[];
}

/**
 * compileGlobalRules parses `text` (XML, see the file comment) and compiles its global rules and
 * rewrite maps. `file` names the source in errors; `firstLine` is the line of `file` where the
 * text starts (inline XML in nodehost.yml), so error lines point into that file. Never throws.
 */
export function compileGlobalRules(text: string, file: string, firstLine = 1): GlobalRulesResult {
  let root: XmlElement;
  try {
    root = parseRulesXml('\n'.repeat(Math.max(0, firstLine - 1)) + text.trimEnd(), file);
  } catch (err) {
    if (err instanceof NodehostError) return { rules: undefined, errors: [err] };
    throw err;
  }
  const errors: NodehostError[] = [];
  const rewrite = findRewrite(root, file, errors);
  if (errors.length > 0) return { rules: undefined, errors };
  const section = newRewriteSection();
  if (rewrite.name === 'globalRules') {
    // A bare <globalRules>: wrap it so the one reader handles both shapes.
    readGlobalRewriteSection({ ...root, name: 'rewrite', attributes: new Map(), children: [root] }, file, section, errors);
  } else {
    readGlobalRewriteSection(rewrite, file, section, errors);
    if (!rewrite.children.some((child) => child.name === 'globalRules')) {
      errors.push(configError('NH_ERR_REWRITE_RULE', file, rewrite, '<rewrite> holds no <globalRules> element'));
    }
  }
  checkNoFileConditions(section.rules, file, errors);
  const merge = new RewriteMerge();
  merge.apply(section, errors);
  if (errors.length > 0) return { rules: undefined, errors };
  const rules = merge.freeze()?.rules;
  return { rules: rules === undefined || rules.length === 0 ? undefined : rules, errors };
}

/**
 * loadGlobalRules compiles the value of nodehost.yml's `globalRules` key: inline XML when it
 * starts with `<`, otherwise a path to an XML file, relative to nodehost.yml's folder (`dir`).
 * An empty value means no global rules. `at` is the key's position in nodehost.yml; `firstLine` is where inline XML starts there.
 * Throws NH_ERR_CONFIG_HOST (unreadable file) or the first compile error, whose message adds
 * how many more there are; every error names file:line.
 */
export function loadGlobalRules(
  value: string,
  at: SourcePosition,
  firstLine: number,
  resolvePath: (relative: string) => string,
): readonly InboundRule[] | undefined {
  const xml = readHostXml('globalRules', value, at, firstLine, resolvePath);
  if (xml === undefined) return undefined;
  const result = compileGlobalRules(xml.text, xml.file, xml.firstLine);
  if (result.errors.length > 0) throwHostXmlErrors(result.errors, xml.isInline);
  return result.rules;
}

/**
 * Parses the XML of global rules. Several top-level `<rule>` elements are not a well-formed
 * document, so when the first element is a `<rule>` the text from there on is wrapped in
 * `<globalRules>`: the opening tag goes on that same line, so no line moves, and the columns
 * after it on that line are shifted back, so every position is the one of the text as written.
 */
function parseRulesXml(text: string, file: string): XmlElement {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // Skip what may come before the first element: blanks, the XML declaration, comments.
  const start = /^(?:\s+|<\?[\s\S]*?\?>|<!--[\s\S]*?-->)*/.exec(source)![0].length;
  if (!/^<rule[\s/>]/.test(source.slice(start))) return parseXml(source, file);
  const open = '<globalRules>';
  const line = source.slice(0, start).split('\n').length;
  const column = start - source.lastIndexOf('\n', start - 1);
  const wrapper = parseXml(`${source.slice(0, start)}${open}${source.slice(start)}</globalRules>`, file);
  const unshift = <T extends { readonly line: number; readonly column: number }>(at: T): T =>
    at.line === line && at.column > column ? { ...at, column: at.column - open.length } : at;
  const restore = (element: XmlElement): XmlElement => ({
    ...unshift(element),
    attributes: new Map([...element.attributes].map(([name, attribute]) => [name, unshift(attribute)])),
    children: element.children.map(restore),
  });
  // The wrapper itself sits where the first rule starts.
  return { ...restore(wrapper), line, column };
}

/** The element holding <globalRules>: the root itself, or <rewrite> found through the wrappers. */
function findRewrite(root: XmlElement, file: string, errors: NodehostError[]): XmlElement {
  const path = ['configuration', 'system.webServer', 'rewrite'];
  if (root.name === 'globalRules') return root;
  let at = path.indexOf(root.name);
  if (at === -1) {
    errors.push(
      configError(
        'NH_ERR_CONFIG_XML',
        file,
        root,
        `globalRules XML must have <globalRules>, <rewrite>, <system.webServer> or <configuration> as its root element, or be one or more <rule> elements, not <${root.name}>`,
      ),
    );
    return root;
  }
  let element = root;
  while (element.name !== 'rewrite') {
    const next = element.children.find((child) => child.name === path[at + 1]);
    if (next === undefined) {
      errors.push(
        configError(
          'NH_ERR_REWRITE_RULE',
          file,
          element,
          `<${element.name}> holds no <${path[at + 1]}> element (expected ${path.slice(at + 1).join('/')}/globalRules)`,
        ),
      );
      return root;
    }
    element = next;
    at++;
  }
  return element;
}

/**
 * IsFile and IsDirectory conditions are not allowed in global rules (spec §1.14 [D]): global
 * rules run before the URL is mapped to the file system.
 */
function checkNoFileConditions(ops: ReturnType<typeof newRewriteSection>['rules'], file: string, errors: NodehostError[]): void {
  for (const op of ops) {
    if (op.kind !== 'add') continue;
    const rule = op.value.element;
    const name = rule.attributes.get('name')?.value ?? '';
    for (const conditions of rule.children) {
      if (conditions.name !== 'conditions') continue;
      for (const add of conditions.children) {
        const type = (add.attributes.get('matchType') ?? add.attributes.get('type'))?.value.trim().toLowerCase();
        if (type === 'isfile' || type === 'isdirectory') {
          errors.push(
            configError(
              'NH_ERR_REWRITE_RULE',
              file,
              add,
              `Rule '${name}': IsFile and IsDirectory conditions cannot be used in global rules (they run before the URL is mapped to a file); use a distributed rule in web.config`,
            ),
          );
        }
      }
    }
  }
}
