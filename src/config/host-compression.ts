/**
 * Host-wide compression defaults (nodehost.yml key `compression`, spec/rewrite.md §2.7): IIS
 * keeps `<httpCompression>` in applicationHost.config, the server level; nodehost reads the same
 * elements from the host configuration (inline XML or a path to an XML file, host-xml.ts) and
 * merges them under every web.config of the site, so a web.config still overrides them.
 *
 * Accepted roots: `<httpCompression>`, `<urlCompression>`, or `<system.webServer>` /
 * `<configuration>` holding either or both (every other section inside is ignored), so the
 * sections of an applicationHost.config can be pasted as they are. Because this is the level
 * IIS's own lists are defined at, an entry that repeats a built-in one (a `<staticTypes>` add of
 * `text/*`, a `<scheme name="gzip">`) replaces it instead of being a duplicate.
 */
import type { NodehostError, SourcePosition } from '../errors.js';
import { CompressionMerge, newCompressionSection, readHttpCompression, readUrlCompression, type CompressionSection } from './compression-config.js';
import { readHostXml, throwHostXmlErrors } from './host-xml.js';
import { configError } from './xml-attributes.js';
import { parseXml, type XmlElement } from './xml.js';

/** The elements read, and the wrappers they may come in. */
const SECTIONS = ['httpCompression', 'urlCompression'];
const WRAPPERS = ['configuration', 'system.webServer'];

/**
 * readHostCompression reads compression XML (see the file comment) into a section; `file` names
 * the source in errors, `firstLine` is the line of `file` where the text starts. Never throws:
 * problems go to `errors`, each naming file:line.
 */
export function readHostCompression(text: string, file: string, firstLine: number, errors: NodehostError[]): CompressionSection {
  const section = newCompressionSection();
  let root: XmlElement;
  try {
    root = parseXml('\n'.repeat(Math.max(0, firstLine - 1)) + text.trimEnd(), file);
  } catch (err) {
    errors.push(err as NodehostError);
    return section;
  }
  const found = findSections(root);
  if (found.length === 0) {
    const expected = '<httpCompression> or <urlCompression> (alone, or inside <system.webServer> or <configuration>)';
    errors.push(configError('NH_ERR_CONFIG_XML', file, root, `compression XML must hold ${expected}, not <${root.name}> without them`));
  }
  for (const element of found) {
    if (element.name === 'httpCompression') readHttpCompression(element, file, section, errors);
    else readUrlCompression(element, file, section, errors);
  }
  // The merge finds what one file cannot: a type or scheme added twice here.
  new CompressionMerge().apply(section, errors, 'host');
  return section;
}

/**
 * loadHostCompression compiles the value of nodehost.yml's `compression` key (`at` is the key's
 * position, `firstLine` the line inline XML starts on); undefined for an empty value. Throws
 * NH_ERR_CONFIG_HOST for an unreadable file, or the first error of the XML, naming file:line.
 */
export function loadHostCompression(
  value: string,
  at: SourcePosition,
  firstLine: number,
  resolvePath: (relative: string) => string,
): CompressionSection | undefined {
  const xml = readHostXml('compression', value, at, firstLine, resolvePath);
  if (xml === undefined) return undefined;
  const errors: NodehostError[] = [];
  const section = readHostCompression(xml.text, xml.file, xml.firstLine, errors);
  if (errors.length > 0) throwHostXmlErrors(errors, xml.isInline);
  return section;
}

/** findSections returns the compression elements of `root`: itself, or those inside its wrappers (configuration/system.webServer). */
function findSections(root: XmlElement): XmlElement[] {
  if (SECTIONS.includes(root.name)) return [root];
  const at = WRAPPERS.indexOf(root.name);
  if (at < 0) return [];
  const inner = WRAPPERS[at + 1];
  return root.children.flatMap((child) =>
    inner === undefined ? (SECTIONS.includes(child.name) ? [child] : []) : child.name === inner ? findSections(child) : [],
  );
}
