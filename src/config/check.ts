/**
 * `nodehost check`: load a site's configuration the way the server would, list every error
 * with its file and line, and show each node application with its effective iisnode settings
 * and where each non-default value came from.
 */
import path from 'node:path';
import type { NodehostError } from '../errors.js';
import type { SettingOrigin } from './app-settings.js';
import { IISNODE_SCHEMA } from './schema.js';
import { SiteConfig, type HostDefaults } from './site-config.js';
import { isRegularFileEntry, walkSiteFolders } from './site-files.js';
import type { SitePaths } from './site-paths.js';
import type { ConfigWarning, HandlerMapping, IisnodeSettingName, IisnodeSettings } from './types.js';
import { wildcardMatch } from './wildcard-match.js';

/** CheckedApp is one node application found in the site. */
export interface CheckedApp {
  /** URL of the entry script, e.g. `/hello.js`. */
  readonly url: string;
  /** Absolute path of the entry script. */
  readonly scriptPath: string;
  /** The iisnode handler mapping that makes the file an application. */
  readonly handler: HandlerMapping;
  /** Effective settings after web.config, IISNODE_* variables and iisnode.yml. */
  readonly settings: IisnodeSettings;
  readonly origins: Readonly<Record<IisnodeSettingName, SettingOrigin>>;
  /** The configOverrides file (it may not exist). */
  readonly ymlFile: string | undefined;
  /** IISNODE_* and iisnode.yml errors of this application. */
  readonly errors: readonly NodehostError[];
  /** web.config errors on the way to the script (they are in CheckReport.errors too). */
  readonly configErrors: readonly NodehostError[];
}

/** CheckReport is the outcome of checkSite. */
export interface CheckReport {
  readonly siteRoot: string;
  /** The web.config files read. */
  readonly files: readonly string[];
  /** Every error: web.config files and merge, then IISNODE_* and iisnode.yml (each once). */
  readonly errors: readonly NodehostError[];
  /** What nodehost accepts but IIS refuses (the site may fail when moved back to IIS); they do not fail the check. */
  readonly warnings: readonly ConfigWarning[];
  readonly apps: readonly CheckedApp[];
}

/**
 * checkSite loads the site at siteRoot with environment env and finds its node applications:
 * every file (outside node_modules and dot-folders) whose first matching handler mapping has
 * the iisnode module, so a literal `path="hello.js"` finds that file in the mapping's scope and
 * a wildcard `path="*.js"` finds every .js file in the scope folder and below; with `paths`, the
 * applications and virtual directories are searched at their URLs too. Never throws.
 */
export function checkSite(siteRoot: string, env: NodeJS.ProcessEnv = process.env, host: HostDefaults = {}, paths?: SitePaths): CheckReport {
  const site = SiteConfig.load(siteRoot, env, host, paths);
  const errors: NodehostError[] = [...site.errors];
  const seen = new Set(errors.map((error) => error.toString()));
  const apps: CheckedApp[] = [];
  let folders: ReturnType<typeof walkSiteFolders> = [];
  try {
    folders = walkSiteFolders(site.siteRoot, paths);
  } catch {
    // SiteConfig.load has already reported the unreadable root.
  }
  for (const folder of folders) {
    for (const entry of folder.entries) {
      if (!isRegularFileEntry(folder.dir, entry)) continue;
      const url = folder.url + entry.name;
      const config = site.forPath(url);
      const handler = config.handlers.find((mapping) => mapping.resourceType !== 'Directory' && handlerPathMatches(mapping, url));
      if (!handler || !isIisnodeHandler(handler)) continue;
      const scriptPath = path.join(folder.dir, entry.name);
      const resolved = site.resolveAppSettings(scriptPath, config);
      for (const error of resolved.errors) {
        if (seen.has(error.toString())) continue;
        seen.add(error.toString());
        errors.push(error);
      }
      apps.push({
        url,
        scriptPath,
        handler,
        settings: resolved.settings,
        origins: resolved.origins,
        ymlFile: resolved.ymlFile,
        errors: resolved.errors,
        configErrors: config.errors,
      });
    }
  }
  return { siteRoot: site.siteRoot, files: site.files, errors, warnings: site.warnings, apps };
}

/** isIisnodeHandler tells whether a mapping's `modules` list names iisnode. */
function isIisnodeHandler(mapping: HandlerMapping): boolean {
  return mapping.modules.split(',').some((module) => module.trim().toLowerCase() === 'iisnode');
}

/**
 * Handler path matching (spec/rewrite.md 2.2), enough to find applications: a path without `/`
 * is matched against the last URL segment, one with `/` against the URL relative to the
 * mapping's scope; `*` matches any run of characters; case-insensitive.
 */
function handlerPathMatches(mapping: HandlerMapping, url: string): boolean {
  const pattern = mapping.path.toLowerCase();
  const lowerUrl = url.toLowerCase();
  if (!pattern.includes('/')) return wildcardMatch(pattern, lowerUrl.slice(lowerUrl.lastIndexOf('/') + 1));
  const scope = mapping.scope.toLowerCase();
  if (!lowerUrl.startsWith(scope)) return false;
  return wildcardMatch(pattern.replace(/^\/+/, ''), lowerUrl.slice(scope.length));
}

/**
 * formatCheckReport renders a report for the terminal: the files read, every error as
 * `file:line: message [CODE]`, every warning as `file:line: message`, then each application with its URL, script, handler and every
 * iisnode setting, non-default values marked with their origin.
 */
export function formatCheckReport(report: CheckReport): string {
  const out: string[] = [`Site ${report.siteRoot}`];
  out.push(`web.config files: ${report.files.length}`);
  for (const file of report.files) out.push(`  ${file}`);
  out.push(`errors: ${report.errors.length}`);
  for (const error of report.errors) out.push(`  ${formatError(error)}`);
  // Only shown when there are some: most sites have none, and the line would only be noise.
  if (report.warnings.length > 0) out.push(`warnings: ${report.warnings.length}`);
  for (const warning of report.warnings) out.push(`  ${warning.source.file}:${warning.source.line}: ${warning.message}`);
  out.push(`node applications: ${report.apps.length}`);
  const width = Math.max(...IISNODE_SCHEMA.map((spec) => spec.name.length));
  for (const app of report.apps) {
    out.push(`  ${app.url}`);
    out.push(`    script:  ${app.scriptPath}`);
    out.push(`    handler: ${app.handler.name} (path="${app.handler.path}", ${app.handler.source.file}:${app.handler.source.line})`);
    if (app.ymlFile !== undefined) out.push(`    overrides file: ${app.ymlFile}`);
    const failing = app.errors.length + app.configErrors.length;
    if (failing > 0) out.push(`    errors: ${failing} (requests to the application fail until they are fixed)`);
    out.push('    settings:');
    for (const spec of IISNODE_SCHEMA) {
      const value = app.settings[spec.name];
      const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
      const origin = app.origins[spec.name];
      const marker = origin.kind === 'default' ? '' : `   <- ${formatOrigin(origin)}`;
      out.push(`      ${spec.name.padEnd(width)} = ${shown}${marker}`);
    }
  }
  out.push(report.errors.length === 0 ? 'OK' : `FAILED: ${report.errors.length} error(s)`);
  return `${out.join('\n')}\n`;
}

/** EffectiveConfig is one application's effective iisnode settings, each with where its value comes from (the admin API's /v1/apps/config). */
export interface EffectiveConfig {
  readonly url: string;
  readonly script: string;
  readonly ymlFile: string | undefined;
  readonly settings: readonly { readonly name: string; readonly value: boolean | number | string; readonly from: string }[];
  readonly errors: readonly string[];
}

/** effectiveConfig returns what `nodehost check` prints for the application at URL `url` of the site (case-insensitive), or undefined when the site has none there. */
export function effectiveConfig(siteRoot: string, url: string, host: HostDefaults = {}, paths?: SitePaths): EffectiveConfig | undefined {
  const app = checkSite(siteRoot, process.env, host, paths).apps.find((candidate) => candidate.url.toLowerCase() === url.toLowerCase());
  if (app === undefined) return undefined;
  return {
    url: app.url,
    script: app.scriptPath,
    ymlFile: app.ymlFile,
    settings: IISNODE_SCHEMA.map((spec) => ({ name: spec.name, value: app.settings[spec.name], from: formatOrigin(app.origins[spec.name]) })),
    errors: [...app.configErrors, ...app.errors].map((error) => formatError(error)),
  };
}

/** Renders an error as `file:line: message [CODE]`, or `message [CODE]` when it has no file. */
function formatError(error: NodehostError): string {
  if (!error.source) return `${error.message} [${error.code}]`;
  return `${error.source.file}:${error.source.line}: ${error.message} [${error.code}]`;
}

function formatOrigin(origin: SettingOrigin): string {
  switch (origin.kind) {
    case 'default':
      return 'default';
    case 'web.config':
      return `${origin.source.file}:${origin.source.line}`;
    case 'env':
      return `environment variable ${origin.variable}`;
    case 'yml':
      return `${origin.source.file}:${origin.source.line}`;
  }
}
