/**
 * `nodehost check --migration`: what changes when a site that ran on IIS with iisnode moves to
 * Linux. It lists, per site, the settings and sections that are accepted but do nothing here,
 * the values that are Windows paths, the file references whose case differs from the file on
 * disk (IIS found them; Linux file names are case-sensitive), the MIME types IIS served that
 * nodehost does not, and the duplicate entries IIS would refuse. None of them fails the check.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SourcePosition } from '../errors.js';
import type { SettingOrigin } from './app-settings.js';
import { checkSite, type CheckReport } from './check.js';
import { IIS_ONLY_MIME_TYPES } from './mime-defaults.js';
import { SiteConfig, type HostDefaults } from './site-config.js';
import { isRegularFileEntry, walkSiteFolders } from './site-files.js';
import type { IisnodeSettingName } from './types.js';
import { decodeConfigText } from './web-config.js';
import { parseXml, type XmlElement } from './xml.js';

/** MigrationKind groups the findings, in the order they are printed. */
export type MigrationKind = 'ignored' | 'windows-path' | 'case' | 'mime' | 'duplicate';

/** MigrationFinding is one thing to look at; `source` is absent for facts about files on disk. */
export interface MigrationFinding {
  readonly kind: MigrationKind;
  readonly message: string;
  readonly source?: SourcePosition | undefined;
}

/** MigrationReport is the outcome of checkMigration for one site. */
export interface MigrationReport {
  readonly siteRoot: string;
  readonly findings: readonly MigrationFinding[];
  /** How many configuration errors `nodehost check` reports for the site. */
  readonly errors: number;
}

/**
 * The iisnode settings that only mean something on Windows (their schema descriptions say
 * nodehost accepts them for compatibility): validated, then ignored.
 */
export const IGNORED_ON_LINUX: readonly IisnodeSettingName[] = [
  'asyncCompletionThreadCount',
  'initialRequestBufferSize',
  'idlePageOutTimePeriod',
  'debuggerExtensionDll',
  'debuggerVirtualDir',
];

/** The system.webServer sections nodehost reads (web-config.ts); any other is skipped. */
const READ_SECTIONS = new Set([
  'iisnode',
  'handlers',
  'defaultDocument',
  'staticContent',
  'security',
  'rewrite',
  'caching',
  'urlCompression',
  'httpCompression',
  'httpProtocol',
  'httpErrors',
]);

/** Why some common skipped sections need no replacement. */
const SKIPPED_NOTES: Readonly<Record<string, string>> = {
  webSocket: 'WebSocket upgrades always go through to node',
  modules: 'nodehost has no IIS modules to add or remove',
  'system.web': 'ASP.NET settings',
  directoryBrowse: 'nodehost never lists folders',
  httpRedirect: 'use a URL Rewrite rule with a Redirect action',
};

const TITLES: Readonly<Record<MigrationKind, string>> = {
  ignored: 'ignored on Linux',
  'windows-path': 'Windows paths',
  case: 'names whose case differs from the file on disk',
  mime: 'MIME types IIS served and nodehost does not',
  duplicate: 'duplicate entries IIS would refuse',
};

/** checkMigration examines the site at siteRoot (with environment env and the host's defaults). Never throws. */
export function checkMigration(siteRoot: string, env: NodeJS.ProcessEnv = process.env, host: HostDefaults = {}): MigrationReport {
  const report = checkSite(siteRoot, env, host);
  const findings: MigrationFinding[] = [];
  settingFindings(report, findings);
  for (const file of report.files) fileFindings(file, report.siteRoot, findings);
  mimeFindings(report.siteRoot, env, host, findings);
  for (const warning of report.warnings) findings.push({ kind: 'duplicate', message: warning.message, source: warning.source });
  const seen = new Set<string>();
  const unique = findings.filter((finding) => {
    const key = `${finding.kind}|${finding.source?.file}:${finding.source?.line}|${finding.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { siteRoot: report.siteRoot, findings: unique, errors: report.errors.length };
}

/** The effective iisnode settings of each application: the Windows-only ones and Windows values. */
function settingFindings(report: CheckReport, out: MigrationFinding[]): void {
  for (const app of report.apps) {
    for (const name of IGNORED_ON_LINUX) {
      const origin = app.origins[name];
      if (origin.kind === 'default') continue;
      out.push({ kind: 'ignored', message: `iisnode ${name} has no effect on Linux (accepted and validated only)`, ...originPlace(origin) });
    }
    for (const name of ['nodeProcessCommandLine', 'interceptor', 'logDirectory', 'configOverrides'] as const) {
      const value = String(app.settings[name]);
      const origin = app.origins[name];
      if (origin.kind === 'default' || !isWindowsPath(value)) continue;
      const hint =
        name === 'nodeProcessCommandLine'
          ? ': nodehost runs the node that runs it instead (with a warning); remove the setting'
          : name === 'interceptor'
            ? ': nodehost drops it and captures the output itself'
            : '';
      out.push({ kind: 'windows-path', message: `iisnode ${name} '${value}' is a Windows path${hint}`, ...originPlace(origin) });
    }
    const watched = app.origins.watchedFiles;
    if (watched.kind !== 'default') watchedFilesFindings(app.settings.watchedFiles, path.dirname(app.scriptPath), originPlace(watched), out);
  }
}

function originPlace(origin: SettingOrigin): { source?: SourcePosition } {
  if (origin.kind === 'web.config' || origin.kind === 'yml') return { source: origin.source };
  if (origin.kind === 'env') return { source: { file: `environment variable ${origin.variable}`, line: 0 } };
  return {};
}

/**
 * watchedFiles: backslashes are read as `/`, but a folder or a file name whose case differs
 * from the disk is never matched on Linux, so changes there would no longer recycle.
 */
function watchedFilesFindings(value: string, scriptDir: string, place: { source?: SourcePosition }, out: MigrationFinding[]): void {
  for (const raw of value.split(';')) {
    const entry = raw.trim().replace(/\\/g, '/');
    if (entry === '') continue;
    const slash = entry.lastIndexOf('/');
    const folder = slash < 0 ? '' : entry.slice(0, slash);
    const name = entry.slice(slash + 1);
    const literal = /[*?]/.test(name) ? folder : entry;
    const onDisk = literal === '' ? undefined : caseOnDisk(scriptDir, literal);
    if (onDisk !== undefined) {
      out.push({
        kind: 'case',
        message: `watchedFiles entry '${raw.trim()}' names ${literal}, but the disk has ${onDisk}: changes there do not recycle`,
        ...place,
      });
    }
  }
}

/** The raw XML of one web.config: skipped sections, Windows paths, file names in the wrong case. */
function fileFindings(file: string, siteRoot: string, out: MigrationFinding[]): void {
  let root: XmlElement;
  try {
    root = parseXml(decodeConfigText(fs.readFileSync(file)), file);
  } catch {
    return; // `nodehost check` reports it.
  }
  const folder = path.dirname(file);
  const at = (node: { line: number }): SourcePosition => ({ file, line: node.line });
  const visitTop = (parent: XmlElement): void => {
    for (const child of parent.children) {
      if (child.name === 'location') visitTop(child);
      else if (child.name === 'system.webServer') {
        for (const section of child.children) {
          if (!READ_SECTIONS.has(section.name)) out.push({ kind: 'ignored', message: skippedMessage(`<${section.name}>`, section.name), source: at(section) });
        }
      } else if (child.name !== 'appSettings') out.push({ kind: 'ignored', message: skippedMessage(`<${child.name}>`, child.name), source: at(child) });
    }
  };
  visitTop(root);
  walk(root, undefined, (element, parent) => {
    for (const [name, attribute] of element.attributes) {
      // The iisnode settings are checked as the applications see them (settingFindings).
      if (element.name !== 'iisnode' && isWindowsPath(attribute.value)) {
        out.push({ kind: 'windows-path', message: `<${element.name} ${name}="${attribute.value}"> is a Windows path`, source: { file, line: attribute.line } });
      }
    }
    // A rewrite condition that builds a file path (`{APPL_PHYSICAL_PATH}public\{R:1}`) with
    // backslashes names no file on Linux, so IsFile and IsDirectory never hold.
    const input = element.attributes.get('input');
    if (parent?.name === 'conditions' && input !== undefined && input.value.includes('\\')) {
      out.push({
        kind: 'windows-path',
        message: `condition input '${input.value}' builds a path with backslashes: Linux paths use '/', so file checks on it never match`,
        source: { file, line: input.line },
      });
    }
    const reference = fileReference(element, parent);
    if (reference === undefined) return;
    if (reference.includes('\\')) {
      out.push({
        kind: 'windows-path',
        message: `<${element.name}> names '${reference}' with backslashes: URLs and Linux paths use '/'`,
        source: at(element),
      });
    }
    // A leading `/` starts at the site root, anything else at the web.config's folder.
    const relative = reference.replace(/\\/g, '/');
    const onDisk = caseOnDisk(relative.startsWith('/') ? siteRoot : folder, relative);
    if (onDisk !== undefined) {
      out.push({
        kind: 'case',
        message: `<${element.name}> names '${reference}', but the file on disk is '${onDisk}': IIS found it whatever the case, Linux only by its exact name`,
        source: at(element),
      });
    }
  });
}

function skippedMessage(what: string, name: string): string {
  const note = SKIPPED_NOTES[name];
  return `${what} is skipped: nodehost does not implement it${note === undefined ? '' : ` (${note})`}`;
}

function walk(element: XmlElement, parent: XmlElement | undefined, visit: (element: XmlElement, parent: XmlElement | undefined) => void): void {
  visit(element, parent);
  for (const child of element.children) walk(child, element, visit);
}

/**
 * The file a config element names relative to its web.config's folder, when it names a literal
 * one: an iisnode handler's script, a default document, a Rewrite action's local URL.
 */
function fileReference(element: XmlElement, parent: XmlElement | undefined): string | undefined {
  const value = (name: string) => element.attributes.get(name)?.value;
  if (element.name === 'add' && value('modules')?.toLowerCase().includes('iisnode')) return literalPath(value('path'));
  if (element.name === 'add' && parent?.name === 'files') return literalPath(value('value'));
  if (element.name === 'action' && (value('type') ?? 'Rewrite').toLowerCase() === 'rewrite') {
    const url = value('url');
    if (url === undefined || url.includes('://')) return undefined;
    return literalPath(url.split('?')[0]);
  }
  return undefined;
}

function literalPath(value: string | undefined): string | undefined {
  if (value === undefined || value === '' || /[*?{}]/.test(value)) return undefined;
  return value;
}

/**
 * caseOnDisk follows a relative `/` path from dir: undefined when it exists as written or not at
 * all, else the spelling the disk has (found case-insensitively, as IIS would).
 */
function caseOnDisk(dir: string, relative: string): string | undefined {
  let current = dir;
  const actual: string[] = [];
  let isDifferent = false;
  for (const segment of relative.split('/')) {
    if (segment === '' || segment === '.') continue;
    let names: string[];
    try {
      names = fs.readdirSync(current);
    } catch {
      return undefined;
    }
    const exact = names.includes(segment) ? segment : names.find((name) => name.toLowerCase() === segment.toLowerCase());
    if (exact === undefined) return undefined;
    if (exact !== segment) isDifferent = true;
    actual.push(exact);
    current = path.join(current, exact);
  }
  return isDifferent ? actual.join('/') : undefined;
}

function isWindowsPath(value: string): boolean {
  return /(^|["\s])[a-zA-Z]:\\/.test(value) || /^\\\\[^\\]/.test(value);
}

/** Files IIS served by its own MIME map that nodehost's map leaves out (404.3 now), one line per extension. */
function mimeFindings(siteRoot: string, env: NodeJS.ProcessEnv, host: HostDefaults, out: MigrationFinding[]): void {
  const site = SiteConfig.load(siteRoot, env, host);
  const found = new Map<string, string[]>();
  let folders: ReturnType<typeof walkSiteFolders> = [];
  try {
    folders = walkSiteFolders(site.siteRoot);
  } catch {
    return;
  }
  for (const folder of folders) {
    for (const entry of folder.entries) {
      const extension = path.extname(entry.name).toLowerCase();
      if (!IIS_ONLY_MIME_TYPES.has(extension) || !isRegularFileEntry(folder.dir, entry)) continue;
      const url = folder.url + entry.name;
      if (site.forPath(url).mimeMap.has(extension)) continue;
      found.set(extension, [...(found.get(extension) ?? []), url]);
    }
  }
  for (const [extension, urls] of found) {
    const example = urls.slice(0, 3).join(', ') + (urls.length > 3 ? ', ...' : '');
    out.push({
      kind: 'mime',
      message:
        `${urls.length} ${extension} file${urls.length === 1 ? '' : 's'} (${example}): IIS served them as ${IIS_ONLY_MIME_TYPES.get(extension)}, ` +
        `nodehost answers 404.3; add <mimeMap fileExtension="${extension}" mimeType="..."/> to serve them`,
    });
  }
}

/** formatMigrationReport renders a report: the site, then each kind with its findings as `file:line: message`. */
export function formatMigrationReport(report: MigrationReport): string {
  const out = [`Migration check of ${report.siteRoot}`];
  for (const kind of Object.keys(TITLES) as MigrationKind[]) {
    const findings = report.findings.filter((finding) => finding.kind === kind);
    out.push(`${TITLES[kind]}: ${findings.length}`);
    for (const finding of findings) {
      const where =
        finding.source === undefined ? '' : finding.source.line > 0 ? `${finding.source.file}:${finding.source.line}: ` : `${finding.source.file}: `;
      out.push(`  ${where}${finding.message}`);
    }
  }
  out.push(report.findings.length === 0 ? 'nothing to change for Linux' : `${report.findings.length} thing(s) to look at before the move`);
  return `${out.join('\n')}\n`;
}
