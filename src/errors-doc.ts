/**
 * renderErrorReference generates docs/errors.md from the error table (errors.ts), so the two
 * cannot drift. Regenerate with `node --import tsx src/errors-doc.ts --write`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ERRORS, type ErrorCode } from './errors.js';

/** AREAS names the section of each code, by the code's prefix; the first match wins. */
const AREAS: readonly (readonly [title: string, prefixes: readonly string[]])[] = [
  ['Configuration', ['NH_ERR_CONFIG_']],
  ['Worker processes', ['NH_ERR_WORKER_', 'NH_ERR_DEBUG_']],
  ['Applications', ['NH_ERR_APP_']],
  ['Request filtering', ['NH_ERR_FILTER_']],
  ['Authentication, authorization and IP restrictions', ['NH_ERR_AUTH_', 'NH_ERR_AUTHZ_', 'NH_ERR_IP_', 'NH_ERR_USERS_']],
  ['URL Rewrite', ['NH_ERR_REWRITE_']],
  ['Static files', ['NH_ERR_STATIC_']],
  ['Logs', ['NH_ERR_LOGS_', 'NH_ERR_ACCESS_LOG_']],
  ['Requests and the server', ['NH_ERR_SERVER_', 'NH_ERR_TLS_', 'NH_ERR_ACME_', 'NH_ERR_REQUEST_', 'NH_ERR_CLIENT_']],
  ['Command line', ['NH_ERR_CLI_']],
  ['Admin API', ['NH_ERR_ADMIN_']],
  ['Internal', ['NH_ERR_INTERNAL']],
];

const INTRO = `# Errors

<!-- Generated from src/errors.ts by src/errors-doc.ts. Do not edit by hand; run \`node --import tsx src/errors-doc.ts --write\`. -->

Every error nodehost reports carries a stable code \`NH_ERR_<AREA>_<WHAT>\`. Codes are never reused
or renamed. Where a request fails because of an error, the table gives the HTTP status and the IIS
substatus (\`500.1002\` is status 500, substatus 1002). The status line cannot carry a substatus, so
nodehost shows it on its error pages and in the access log. Configuration errors name the file and
line (\`web.config:12\`), and \`nodehost check\` lists them all. Every error page is written by one
step of the pipeline, so a code gets the same page wherever it is raised. The command line exits 0
on success, 1 on a failure and 2 on a usage error (\`NH_ERR_CLI_USAGE\`).
`;

/** renderErrorReference returns the text of docs/errors.md. It throws when a code belongs to no area. */
export function renderErrorReference(): string {
  const out = [INTRO];
  const codes = Object.keys(ERRORS) as ErrorCode[];
  const placed = new Set<ErrorCode>();
  for (const [title, prefixes] of AREAS) {
    const inArea = codes.filter((code) => !placed.has(code) && prefixes.some((prefix) => code.startsWith(prefix)));
    if (inArea.length === 0) continue;
    out.push(`## ${title}`, '', '| code | status | meaning |', '|---|---|---|');
    for (const code of inArea) {
      placed.add(code);
      const { status, substatus, summary } = ERRORS[code];
      out.push(`| \`${code}\` | ${substatus === 0 ? status : `${status}.${substatus}`} | ${summary.replaceAll('|', '\\|')} |`);
    }
    out.push('');
  }
  const orphan = codes.find((code) => !placed.has(code));
  if (orphan !== undefined) throw new Error(`${orphan} belongs to no area of src/errors-doc.ts`);
  return out.join('\n');
}

// Run directly with --write to regenerate the file.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv.includes('--write')) {
  const target = fileURLToPath(new URL('../docs/errors.md', import.meta.url));
  writeFileSync(target, renderErrorReference());
  process.stdout.write(`wrote ${target}\n`);
}
