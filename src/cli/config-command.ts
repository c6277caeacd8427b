/**
 * `nodehost config get|set <site> <section/attribute> [value]`: read or change one setting of a
 * site folder's web.config (or of the iisnode.yml that overrides it) in place, like IIS's
 * appcmd, keeping comments, attribute order and indentation (config/web-config-edit.ts).
 *
 * - `<site>` is a site name of nodehost.yml (--config or ./nodehost.yml; the short form's `name`
 *   or a name of the long form's `sites:`) or a site folder, optionally followed by a URL path:
 *   `shop/node` (the folder of shop's `/node` application), `./site/node` (site-argument.ts).
 * - `<section/attribute>`: `iisnode/nodeProcessCountPerApplication` (a section without
 *   `system.*` is under `system.webServer`) or `system.webServer/httpErrors/errorMode`.
 * - appcmd's form is accepted too: `set config "Default Web Site/node" -section:iisnode
 *   /nodeProcessCountPerApplication:2` (several `/name:value` pairs are allowed).
 *
 * A value is validated before anything is written: iisnode settings against the schema, and the
 * whole edited file with the web.config reader (a new error names file, line and setting). A
 * running server re-reads the file through its normal configuration refresh.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parseSettingValue, SETTINGS_BY_LOWER_NAME, SETTINGS_BY_NAME, type SettingSpec } from '../config/schema.js';
import { SiteConfig } from '../config/site-config.js';
import { decodeConfigText, parseWebConfig } from '../config/web-config.js';
import type { ConfigTarget } from '../config/web-config-edit.js';
import { NodehostError } from '../errors.js';
import { resolveSiteArgument, type SiteArgument } from './site-argument.js';

/** Editors are the in-place editors of iisnode.yml and web.config, loaded by the command: `serve` never needs them. */
type Editors = typeof import('../config/iisnode-yml-edit.js') & typeof import('../config/web-config-edit.js');

async function loadEditors(): Promise<Editors> {
  const [yml, webConfig] = await Promise.all([import('../config/iisnode-yml-edit.js'), import('../config/web-config-edit.js')]);
  return { ...yml, ...webConfig };
}

interface ConfigFlags {
  config?: string;
}

/** ConfigRequest is one parsed command line: where, which attributes, and the values to set. */
interface ConfigRequest {
  readonly site: string;
  readonly elements: readonly string[];
  readonly pairs: readonly { readonly attribute: string; readonly value: string | undefined }[];
}

/** registerConfigCommand adds `config get` and `config set` to the program. */
export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description("read or change one setting of a site's web.config or iisnode.yml in place (like appcmd)");
  config
    .command('get')
    .description('print a setting: its value in the folder, and where it is written')
    .argument('<words...>', '<site>[/<url path>] <section>/<attribute>, or appcmd form: <site> -section:<section> /<attribute>')
    .option('--config <file>', 'host configuration file (nodehost.yml) naming the site (default ./nodehost.yml when present)')
    .allowUnknownOption()
    .addHelpText(
      'after',
      `
Examples:
  nodehost config get shop/node iisnode/nodeProcessCountPerApplication
  nodehost config get ./site system.webServer/httpErrors/errorMode

Exit codes: 0 printed, 1 no such site or folder, or a file that cannot be read, 2 usage error.`,
    )
    .action((words: string[], flags: ConfigFlags) => run((edit) => getSetting(parseWords(words, false), flags, edit)));
  config
    .command('set')
    .description('change a setting in place; validated before it is written; a running server applies it on its own')
    .argument('<words...>', '<site>[/<url path>] <section>/<attribute> <value>, or appcmd form: [config] <site> -section:<section> /<attribute>:<value>')
    .option('--config <file>', 'host configuration file (nodehost.yml) naming the site (default ./nodehost.yml when present)')
    .allowUnknownOption()
    .addHelpText(
      'after',
      `
Examples:
  nodehost config set shop/node iisnode/nodeProcessCountPerApplication 2
  nodehost config set ./site/node iisnode/maxEventLoopBlockMs 2000
  nodehost config set config "Default Web Site/node" -section:iisnode /nodeProcessCountPerApplication:2

Exit codes: 0 written, 1 refused (a bad value, named with its setting) or no such site, 2 usage error.`,
    )
    .action((words: string[], flags: ConfigFlags) => run((edit) => setSetting(parseWords(words, true), flags, edit)));
}

async function run(work: (edit: Editors) => void): Promise<void> {
  const edit = await loadEditors();
  try {
    work(edit);
    process.exitCode = 0;
  } catch (err) {
    if (!(err instanceof NodehostError)) throw err;
    process.stderr.write(`nodehost: ${err.toString()}\n`);
    process.exitCode = err.code === 'NH_ERR_CLI_USAGE' ? 2 : 1;
  }
}

/** parseWords reads both forms of the command line. */
function parseWords(words: readonly string[], isSet: boolean): ConfigRequest {
  const sectionWord = words.find((word) => /^-section:/i.test(word));
  if (sectionWord !== undefined) {
    // appcmd: [config] <site> -section:<section> /<attribute>[:<value>] ...
    const rest = words.filter((word) => word !== sectionWord);
    const positional = rest.filter((word) => !word.startsWith('/'));
    const site = positional.length === 2 && positional[0]!.toLowerCase() === 'config' ? positional[1] : positional[0];
    if (site === undefined || positional.length > 2) throw usage('name one site, e.g. "Default Web Site/node"');
    const pairs = rest
      .filter((word) => word.startsWith('/'))
      .map((word) => {
        const colon = word.indexOf(':');
        return colon < 0 ? { attribute: word.slice(1), value: undefined } : { attribute: word.slice(1, colon), value: word.slice(colon + 1) };
      });
    if (pairs.length === 0) throw usage('name an attribute, e.g. /nodeProcessCountPerApplication:2');
    if (isSet && pairs.some((pair) => pair.value === undefined)) throw usage('give each attribute a value, e.g. /nodeProcessCountPerApplication:2');
    return { site, elements: sectionPath(sectionWord.slice('-section:'.length)), pairs };
  }
  if (words.length !== (isSet ? 3 : 2)) throw usage(isSet ? 'expected <site> <section>/<attribute> <value>' : 'expected <site> <section>/<attribute>');
  const setting = words[1]!.replace(/^\/+|\/+$/g, '');
  const slash = setting.lastIndexOf('/');
  if (slash <= 0) throw usage(`'${words[1]}' is not <section>/<attribute>, e.g. iisnode/nodeProcessCountPerApplication`);
  return { site: words[0]!, elements: sectionPath(setting.slice(0, slash)), pairs: [{ attribute: setting.slice(slash + 1), value: words[2] }] };
}

/** sectionPath turns `iisnode` or `system.webServer/iisnode` into the elements under <configuration>. */
function sectionPath(section: string): string[] {
  const parts = section.split('/').filter((part) => part !== '');
  if (parts.length === 0) throw usage('the section is empty');
  return /^system\./.test(parts[0]!) || parts[0] === 'appSettings' ? parts : ['system.webServer', ...parts];
}

function usage(message: string): NodehostError {
  return new NodehostError('NH_ERR_CLI_USAGE', `${message} (see 'nodehost config set --help')`);
}

/** iisnodeSpec returns the schema entry of an `<iisnode>` attribute (undefined for other sections); throws naming the setting when iisnode has none by that name. */
function iisnodeSpec(elements: readonly string[], attribute: string): SettingSpec | undefined {
  if (elements.join('/') !== 'system.webServer/iisnode') return undefined;
  const spec = SETTINGS_BY_NAME.get(attribute as never);
  if (spec !== undefined) return spec;
  const near = SETTINGS_BY_LOWER_NAME.get(attribute.toLowerCase());
  throw new NodehostError(
    'NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE',
    `iisnode has no setting '${attribute}'${near === undefined ? '' : ` (did you mean '${near.name}'?)`}`,
  );
}

/** ymlFileOf is the folder's iisnode.yml (configOverrides) when it exists and sets the key: it wins over web.config, so it is the file to edit. */
function ymlFileOf(folder: SiteArgument, spec: SettingSpec | undefined, edit: Editors): string | undefined {
  if (spec?.ymlKey === null || spec === undefined) return undefined;
  const overrides = SiteConfig.load(folder.root, process.env, {}, folder.paths).forPath(`${folder.urlPath.replace(/\/$/, '')}/`).iisnode.configOverrides;
  const file = path.resolve(folder.dir, overrides);
  if (!fs.existsSync(file)) return undefined;
  return edit.findYmlValue(fs.readFileSync(file, 'utf8'), spec.ymlKey) === undefined ? undefined : file;
}

function getSetting(request: ConfigRequest, flags: ConfigFlags, edit: Editors): void {
  const folder = resolveSiteArgument(request.site, flags.config);
  const webConfig = path.join(folder.dir, 'web.config');
  const text = fs.existsSync(webConfig) ? decodeConfigText(fs.readFileSync(webConfig)) : undefined;
  for (const { attribute } of request.pairs) {
    const spec = iisnodeSpec(request.elements, attribute);
    const yml = ymlFileOf(folder, spec, edit);
    if (yml !== undefined) {
      const found = edit.findYmlValue(fs.readFileSync(yml, 'utf8'), spec!.ymlKey!)!;
      process.stdout.write(`${attribute}=${found.value} (${yml}:${found.line})\n`);
      continue;
    }
    const found = text === undefined ? undefined : edit.getConfigValue(text, webConfig, { elements: request.elements, attribute });
    if (found !== undefined) {
      process.stdout.write(`${attribute}=${found.value} (${webConfig}:${found.line})\n`);
    } else if (spec !== undefined) {
      const effective = SiteConfig.load(folder.root, process.env, {}, folder.paths).forPath(`${folder.urlPath.replace(/\/$/, '')}/`).iisnode[spec.name];
      process.stdout.write(`${attribute}=${String(effective)} (effective: not set in ${webConfig})\n`);
    } else {
      process.stdout.write(`${attribute} is not set in ${webConfig}\n`);
    }
  }
}

function setSetting(request: ConfigRequest, flags: ConfigFlags, edit: Editors): void {
  const folder = resolveSiteArgument(request.site, flags.config);
  for (const { attribute, value } of request.pairs) {
    const spec = iisnodeSpec(request.elements, attribute);
    const yml = ymlFileOf(folder, spec, edit);
    if (spec !== undefined) {
      const parsed = parseSettingValue(spec, value!, yml === undefined ? 'web.config' : 'yml');
      // iisnode.yml reads numbers leniently (like C atol); nodehost writes only what web.config would accept.
      const strict = spec.type === 'uint' ? parseSettingValue(spec, value!, 'web.config') : parsed;
      if (!parsed.ok || !strict.ok)
        throw new NodehostError('NH_ERR_CONFIG_BAD_VALUE', `refused: ${parsed.ok ? (strict as { message: string }).message : parsed.message}`);
    }
    if (yml !== undefined) {
      if (value!.includes('#') || /[\r\n]/.test(value!))
        throw new NodehostError('NH_ERR_CONFIG_BAD_VALUE', `refused: an iisnode.yml value cannot hold '#' or a line break (${attribute})`);
      fs.writeFileSync(yml, edit.setYmlValue(fs.readFileSync(yml, 'utf8'), spec!.ymlKey!, value!));
      process.stdout.write(`set ${attribute}=${value} in ${yml}:${edit.findYmlValue(fs.readFileSync(yml, 'utf8'), spec!.ymlKey!)!.line}\n`);
      continue;
    }
    writeWebConfig(folder, { elements: request.elements, attribute }, value!, edit);
  }
}

/** writeWebConfig edits the folder's web.config (made when missing) and writes it only when the reader finds no new error in it. */
function writeWebConfig(folder: SiteArgument, target: ConfigTarget, value: string, edit: Editors): void {
  const file = path.join(folder.dir, 'web.config');
  const exists = fs.existsSync(file);
  const bytes = exists ? fs.readFileSync(file) : undefined;
  // A UTF-16 file (written by Windows tools) is written back as UTF-8 with the same text.
  const before = bytes === undefined ? edit.NEW_WEB_CONFIG : decodeConfigText(bytes);
  const after = edit.setConfigValue(before, file, target, value);
  const folderUrl = `${folder.urlPath.replace(/\/$/, '')}/`;
  // Errors the file had already are not this edit's (compared without their lines, which an insertion moves).
  const known = new Set(errorsOf(before, file, folderUrl).map((error) => `${error.code} ${error.message}`));
  const added = errorsOf(after, file, folderUrl).filter((error) => !known.has(`${error.code} ${error.message}`));
  const first = added[0];
  if (first !== undefined) throw new NodehostError(first.code, `refused: ${first.message}`, first.source === undefined ? {} : { source: first.source });
  fs.writeFileSync(file, after);
  const line = edit.getConfigValue(after, file, target)?.line ?? 0;
  process.stdout.write(`set ${target.elements.join('/')}/${target.attribute}=${value} in ${file}:${line}${exists ? '' : ' (new file)'}\n`);
}

function errorsOf(text: string, file: string, folderUrl: string): NodehostError[] {
  const parsed = parseWebConfig(text, file, folderUrl);
  return [...parsed.errors, ...parsed.top.errors, ...parsed.locations.flatMap((location) => location.sections.errors)];
}
