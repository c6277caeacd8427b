/**
 * Generates docs/configuration.md from the schema and the built-in base configuration, so the
 * reference cannot drift from the code (docs.test.ts compares the file with this output).
 * Regenerate with `node --import tsx src/config/docs.ts --write`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BASE_DEFAULT_DOCUMENTS, BASE_HIDDEN_SEGMENTS, BASE_MIME_MAP } from './base-config.js';
import { BASE_CUSTOM_HEADERS } from './http-protocol-config.js';
import { IISNODE_SCHEMA, type SettingSpec } from './schema.js';

/** renderConfigurationReference returns the full text of docs/configuration.md. */
export function renderConfigurationReference(): string {
  const out: string[] = [];
  out.push('# Configuration reference', '');
  out.push('<!-- Generated from src/config/schema.ts by src/config/docs.ts. Do not edit by hand; run `node --import tsx src/config/docs.ts --write`. -->', '');
  out.push(...INTRO, '');
  out.push('## The iisnode settings', '');
  out.push('| Setting | Type | Default | `%VAR%` expanded | iisnode.yml key |', '|---|---|---|---|---|');
  for (const spec of IISNODE_SCHEMA) {
    out.push(
      `| [\`${spec.name}\`](#${spec.name.toLowerCase()}) | ${spec.type} | ${formatDefault(spec)} | ${formatExpansion(spec)} | ${spec.ymlKey === null ? '(none)' : `\`${spec.ymlKey}\``} |`,
    );
  }
  out.push('');
  for (const spec of IISNODE_SCHEMA) {
    out.push(`### ${spec.name}`, '');
    out.push(spec.description, '');
    out.push(`- Type: ${TYPE_NAMES[spec.type]}${spec.allowInfinite ? '; web.config also accepts `Infinite` (4294967295)' : ''}.`);
    out.push(`- Default: ${formatDefault(spec)}.`);
    out.push(`- \`%VAR%\` expansion: ${formatExpansion(spec)}.`);
    out.push(`- Environment variable: \`IISNODE_${spec.name}\`.`);
    out.push(`- iisnode.yml key: ${spec.ymlKey === null ? 'none, iisnode.yml cannot set it' : `\`${spec.ymlKey}\``}.`, '');
  }
  out.push(...VALUE_RULES, '');
  out.push(...SECTIONS, '');
  out.push('## Built-in base configuration', '');
  out.push('Every site inherits these before its first web.config, as IIS sites inherit applicationHost.config.', '');
  out.push(`- Hidden segments (404.8): ${BASE_HIDDEN_SEGMENTS.map((s) => `\`${s}\``).join(', ')}.`);
  out.push(`- Default documents, in order: ${BASE_DEFAULT_DOCUMENTS.map((s) => `\`${s}\``).join(', ')}.`);
  out.push(
    `- Custom headers (httpProtocol/customHeaders), on every response: ${BASE_CUSTOM_HEADERS.map((h) => `\`${h.name}: ${h.value}\``).join(', ')} (IIS's applicationHost.config has \`X-Powered-By: ASP.NET\`). Remove it with \`<remove name="X-Powered-By"/>\` or \`<clear/>\`; adding it again without a \`<remove>\` is a 500.19 error, as on IIS.`,
  );
  out.push(
    '- httpErrors: `errorMode="DetailedLocalOnly"`, `existingResponse="Auto"`, `defaultResponseMode="File"`, and no `<error>` entries: nodehost\'s own pages answer every status until a site names one (IIS\'s applicationHost.config lists its own pages for 401, 403, 404, 405, 406, 412, 500, 501 and 502).',
  );
  out.push(
    `- Static MIME map: the ${BASE_MIME_MAP.size} extensions below. A file whose extension is not in the merged map gets 404.3, so \`.yml\`, \`.yaml\`, \`.config\`, \`.ts\` and \`.md\` files are not served unless a web.config adds them. A site may add an extension of this list again without a \`<remove>\`: its entry replaces the built-in one. IIS answers 500.19 ("Cannot add duplicate collection entry") for such an add when its own list has the extension, so \`nodehost check\` prints a warning naming the file, the line and the extension: add \`<remove fileExtension=".json"/>\` before the \`<mimeMap>\` to keep the site portable.`,
    '',
  );
  out.push('| Extension | MIME type |', '|---|---|');
  for (const [extension, type] of BASE_MIME_MAP) out.push(`| \`${extension}\` | \`${type}\` |`);
  out.push('');
  return out.join('\n');
}

const TYPE_NAMES: Record<SettingSpec['type'], string> = {
  bool: 'boolean',
  uint: 'unsigned 32-bit integer',
  string: 'string',
};

function formatDefault(spec: SettingSpec): string {
  if (spec.defaultLabel !== undefined) return spec.defaultLabel;
  if (spec.type === 'string') return spec.default === '' ? 'empty' : `\`${String(spec.default)}\``;
  return `\`${String(spec.default)}\``;
}

function formatExpansion(spec: SettingSpec): string {
  if (spec.expanded && spec.ymlExpanded) return 'yes';
  if (spec.expanded) return 'web.config and IISNODE_* only';
  return 'no';
}

const INTRO = [
  'nodehost reads the configuration of a site from the same files as IIS with iisnode: `web.config` files, `IISNODE_<setting>` environment variables and `iisnode.yml`. This page lists every setting of the `<iisnode>` element and the other web.config sections nodehost reads.',
  '',
  '## Where settings come from',
  '',
  'For each application (entry script), lowest to highest:',
  '',
  '1. the defaults below;',
  "2. the `<iisnode>` element of each `web.config` from the site root down to the script's folder, and the `<location path>` elements that target those folders or the script; a deeper file wins attribute by attribute;",
  '3. an `IISNODE_<setting>` environment variable of nodehost (for example `IISNODE_nodeProcessCountPerApplication=4`; the name is matched case-insensitively) replaces the web.config value;',
  '4. `%VAR%` references are expanded in the settings marked below, with the environment of nodehost, looking names up case-insensitively; an unknown `%NAME%` stays as written;',
  '5. the file named by `configOverrides` (`iisnode.yml` next to the script by default) overrides everything else. It is read again when it changes.',
  '',
  'A value that does not parse is an error naming the file and line (or the variable): requests to the affected folder or application then fail with 500.19, 500.1031 or 500.1032 and `nodehost check` lists the error. After loading, `nodeProcessCountPerApplication` and `asyncCompletionThreadCount` of 0 become the number of CPUs.',
];

const VALUE_RULES = [
  '## Value syntax per source',
  '',
  '| | web.config | `IISNODE_*` variable | iisnode.yml |',
  '|---|---|---|---|',
  '| boolean | `true`, `false` (any case) | `true`, `false`, `1`, `0` (any case) | `true`, `yes`, `1`, `false`, `no`, `0` (any case) |',
  '| number | decimal digits only, at most 4294967295 | decimal digits only, at most 4294967295 | read like C `atol`: `12abc` is 12, `abc` is 0 |',
  '| string | as written (XML entities decoded) | as given | as written, quotes kept |',
  '',
  '### iisnode.yml syntax',
  '',
  "iisnode.yml is not YAML; it has iisnode's own line syntax:",
  '',
  '- each line is `key: value`; a `#` starts a comment anywhere on the line, even inside a value;',
  '- only spaces count as white space: a tab becomes part of the key or value;',
  '- empty, space-only and comment-only lines are skipped;',
  '- a line without `:`, a line starting with `:`, or anything but spaces between the key and `:` is an error, and one error voids the whole file;',
  '- an empty value leaves the setting unchanged, unknown keys are ignored, keys are case-insensitive;',
  '- `configOverrides` cannot be set here, and the debugger port range is `debugPortRange` (a `debuggerPortRange:` line is ignored, as in iisnode);',
  '- `%VAR%` is expanded only in `logDirectory`, `node_env`, `watchedFiles`, `nodeProcessCommandLine` and `interceptor`;',
  '- an empty or missing file means no overrides.',
];

const SECTIONS = [
  '## web.config sections nodehost reads',
  '',
  'Sections and elements nodehost does not implement yet (for example `webSocket`, `httpCompression`, `system.web`) are accepted and ignored, so a web.config written for IIS loads as it is. Within the sections below, an unknown attribute or element is an error naming its file and line; the IIS locking attributes (`lockAttributes`, `lockItem`, ...), `xmlns` declarations and `xdt:` transform attributes are allowed everywhere. `configSource` is not supported.',
  '',
  '- `system.webServer/iisnode`: the settings above.',
  '- `system.webServer/handlers`: `<add name path verb modules scriptProcessor type resourceType requireAccess preCondition responseBufferLimit allowPathInfo/>` (`name`, `path` and `verb` are required), `<remove name/>`, `<clear/>`. A mapping whose `modules` is `iisnode` makes the matching file a node application.',
  '- `system.webServer/defaultDocument`: `enabled`, and `<files>` with `<add value/>`, `<remove value/>`, `<clear/>`.',
  '- `system.webServer/staticContent`: `<mimeMap fileExtension mimeType/>` (both required), `<remove fileExtension/>`, `<clear/>`; `<clientCache cacheControlMode cacheControlMaxAge httpExpires cacheControlCustom setEtag/>` on static files: `UseMaxAge` sends `Cache-Control: max-age=<seconds>` (`cacheControlMaxAge` is a time span `d.hh:mm:ss`, default `1.00:00:00`), followed by `, <cacheControlCustom>` when set; `DisableCache` sends `Cache-Control: no-cache`; `UseExpires` sends `Expires: <httpExpires>` (an RFC 1123 date) and `cacheControlCustom` alone as `Cache-Control`; `NoControl` (the default) sends nothing. 200, 206 and 304 answers carry them; error pages and node responses do not. Each attribute inherits on its own. `setEtag` is checked and not applied (an ETag is always sent). See [headers-and-error-pages.md](headers-and-error-pages.md).',
  '- `system.webServer/httpProtocol`: `allowKeepAlive` (checked, not applied); `<customHeaders>` and `<redirectHeaders>`, each with `<add name value/>`, `<remove name/>`, `<clear/>`. Custom headers go on every response (static files, node, redirects, error pages); redirect headers on 3xx responses with a `Location` only. A header node also sends is sent twice, as IIS does. See [headers-and-error-pages.md](headers-and-error-pages.md).',
  '- `system.webServer/httpErrors`: `errorMode` (`DetailedLocalOnly`, `Custom`, `Detailed`), `existingResponse` (`Auto`, `Replace`, `PassThrough`), `defaultResponseMode` (`File`, `ExecuteURL`, `Redirect`), `defaultPath`, `detailedMoreInformationLink` and `allowAbsolutePathsWhenDelegated` (checked, not applied); `<error statusCode subStatusCode path responseMode prefixLanguageFilePath/>` (`statusCode` 400 to 999 and `path` required; `subStatusCode` -1, every substatus, by default; `responseMode` File by default), `<remove statusCode subStatusCode/>`, `<clear/>`. File paths are relative to the folder of their web.config (absolute paths are refused, as IIS refuses them in a site); ExecuteURL paths are URLs of the site starting with `/`. Under `Auto`, nodehost keeps a body node wrote and replaces only a bodiless node error, unlike IIS: see [headers-and-error-pages.md](headers-and-error-pages.md).',
  '- `system.webServer/security/requestFiltering/hiddenSegments`: `<add segment/>`, `<remove segment/>`, `<clear/>`; the other requestFiltering parts are accepted and not applied yet.',
  "- `system.webServer/caching`: `enabled`, `enableKernelCache` (accepted, no effect), `maxCacheSize` (MB; only the site root's counts; 0 = 256 MB or an eighth of the memory), `maxResponseSize` (bytes, 262144), and `<profiles>` with `<add extension policy kernelCachePolicy duration location varyByQueryString varyByHeaders staleWhileRevalidate/>` (`extension` required; `staleWhileRevalidate` is nodehost's own), `<remove extension/>`, `<clear/>`. Durations are IIS time spans (`hh:mm:ss`, `d.hh:mm:ss`). See [output-cache.md](output-cache.md).",
  "- `system.webServer/urlCompression` (`doStaticCompression`, `doDynamicCompression`) and `system.webServer/httpCompression` (`minFileSizeForComp`, `noCompressionForRange`, `noCompressionForHttp10`, `noCompressionForProxies`, `<staticTypes>`, `<dynamicTypes>`, `<scheme>`), in any web.config and `<location>`: see [compression.md](compression.md) for the defaults (IIS's, plus `application/json`) and the negotiation.",
  '- `appSettings`: `<add key value/>`, `<remove key/>`, `<clear/>`. Each entry with a non-empty key becomes an environment variable of the node processes; when a key repeats, the last entry wins. The `file` attribute is ignored, as iisnode ignored it.',
  '- `<location path="...">` around `system.webServer` or `appSettings`: the path is relative to the folder of its web.config (`""` and `.` mean that folder), names a folder or a single file, and matches URLs segment by segment, case-insensitively. Its sections apply after those of the file that holds it.',
  '',
  'Collections merge as in IIS: `handlers` and `defaultDocument` files of a deeper file come before the inherited ones; `mimeMap`, `hiddenSegments`, `customHeaders`, `redirectHeaders`, `httpErrors` entries and `appSettings` entries come after them. `<remove>` of an entry that is not there is fine; `<clear/>` drops everything inherited; adding an entry whose key is already present without a `<remove>` first is an error (IIS 500.19), except that a `mimeMap` entry may replace one of the built-in list (`nodehost check` warns about it, because IIS would not allow it).',
];

// Run directly with --write to regenerate the file.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv.includes('--write')) {
  const target = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));
  writeFileSync(target, renderConfigurationReference());
  process.stdout.write(`wrote ${target}\n`);
}
