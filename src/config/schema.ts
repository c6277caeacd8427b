/**
 * The one schema of the `system.webServer/iisnode` section (spec/iisnode.md 1.2): every setting
 * with its type, default, description and parsing flags. The web.config, IISNODE_* and
 * iisnode.yml adapters parse values through `parseSettingValue`, and docs/configuration.md is
 * generated from the descriptions (docs.ts), so a description is the user-facing reference.
 */
import type { IisnodeSettingName, IisnodeSettings } from './types.js';

/** SettingType is the value type of a setting: `uint` is a 32-bit unsigned integer. */
export type SettingType = 'bool' | 'uint' | 'string';

/** SettingOriginKind names the adapter a raw value comes from; each has its own parsing rules. */
export type SettingOriginKind = 'web.config' | 'env' | 'yml';

/** SettingSpec describes one iisnode setting. */
export interface SettingSpec {
  readonly name: IisnodeSettingName;
  readonly type: SettingType;
  /** The nodehost default (which differs from iisnode's for a few settings, as the description says). */
  readonly default: boolean | number | string;
  /** How the docs show the default when it depends on the machine (e.g. the node binary path). */
  readonly defaultLabel: string | undefined;
  /** Full sentences: meaning, default and caveats. The configuration reference prints it as is. */
  readonly description: string;
  /** Whether `%VAR%` references in web.config and IISNODE_* values are expanded (schema `expanded="true"`). */
  readonly expanded: boolean;
  /** Whether the iisnode.yml parser expands `%VAR%` in this key's value (a shorter list than `expanded`). */
  readonly ymlExpanded: boolean;
  /** The key the iisnode.yml parser recognises (case-insensitively), or null when yml cannot set it. */
  readonly ymlKey: string | null;
  /** Whether web.config accepts `Infinite` (= 4294967295) for this uint. */
  readonly allowInfinite: boolean;
}

/** UINT_MAX is the largest uint value, and the value of `Infinite`. */
export const UINT_MAX = 4294967295;

type SpecBody = Omit<SettingSpec, 'name' | 'defaultLabel' | 'expanded' | 'ymlExpanded' | 'ymlKey' | 'allowInfinite'> &
  Partial<Pick<SettingSpec, 'defaultLabel' | 'expanded' | 'ymlExpanded' | 'ymlKey' | 'allowInfinite'>>;

/**
 * The default nodeProcessCommandLine: the node binary running nodehost, quoted when its path
 * has white space because the value is a command-line prefix that the spawner splits.
 */
const NODE_BINARY = /\s/.test(process.execPath) ? `"${process.execPath}"` : process.execPath;

// Keyed by name so that `satisfies` makes the compiler check that all 44 settings are here
// (iisnode's 34, then nodehost's own 10);
// the key order is the order of spec/iisnode.md 1.2 and of the generated reference.
const SPECS = {
  node_env: {
    type: 'string',
    default: '%node_env%',
    expanded: true,
    ymlExpanded: true,
    description:
      "The value given to the worker as `NODE_ENV`. The default `%node_env%` expands to the host's own NODE_ENV (looked up case-insensitively); when the value is empty, or is still the literal `%node_env%` because the host has no NODE_ENV, the worker gets no NODE_ENV from nodehost and inherits the host's environment as is.",
  },
  asyncCompletionThreadCount: {
    type: 'uint',
    default: 0,
    description:
      "The size of iisnode's IO completion thread pool on Windows. nodehost accepts and validates it but has no use for it. The default 0 means one per CPU.",
  },
  nodeProcessCountPerApplication: {
    type: 'uint',
    default: 1,
    description:
      'How many worker processes each application runs. The default is 1; 0 means one per CPU (`os.availableParallelism()`). All workers start when the application starts, and an application in debug mode always runs one.',
  },
  nodeProcessCommandLine: {
    type: 'string',
    default: NODE_BINARY,
    expanded: true,
    ymlExpanded: true,
    defaultLabel: 'the node binary that runs nodehost (`process.execPath`)',
    description:
      "The command that starts node; it is the prefix of the worker's command line, so it may carry flags such as `--max-old-space-size=4096`, and a path containing spaces must be quoted. The default is the node binary that runs nodehost (iisnode's default was `node.exe` from PATH). The iisnode.yml parser keeps quotes as written.",
  },
  interceptor: {
    type: 'string',
    default: '',
    expanded: true,
    ymlExpanded: true,
    description:
      "A script that node runs instead of the application, with the application's full path as the next argument. The default is empty: nodehost runs the entry script directly and captures its output itself, where iisnode's default was its own `interceptor.js`. The debugger process never uses it.",
  },
  maxConcurrentRequestsPerProcess: {
    type: 'uint',
    default: 1024,
    allowInfinite: true,
    description:
      "The most requests one worker may have active at once. When every worker of the application is at this limit a new request gets 503 at once; there is no queue unless nodehost's own queue is configured. The default is 1024; web.config also accepts `Infinite` (4294967295), which Azure App Service sets.",
  },
  maxNamedPipeConnectionRetry: {
    type: 'uint',
    default: 100,
    description:
      "How many times nodehost tries to connect to a worker's socket before the request fails with 500.1001. Together with namedPipeConnectionRetryDelay it is the time a starting worker has to listen: 100 × 250 ms = 25 s by default.",
  },
  namedPipeConnectionRetryDelay: {
    type: 'uint',
    default: 250,
    description: "The delay in milliseconds between two attempts to connect to a worker's socket. The default is 250.",
  },
  maxNamedPipeConnectionPoolSize: {
    type: 'uint',
    default: 512,
    description:
      'The most idle keep-alive connections kept open to each worker for reuse; connections beyond it are closed when they become idle. The default is 512.',
  },
  maxNamedPipePooledConnectionAge: {
    type: 'uint',
    default: 30000,
    description:
      'How long, in milliseconds, an idle pooled connection to a worker may be reused, counted from when it went back to the pool; an older one is closed instead. The default is 30000.',
  },
  initialRequestBufferSize: {
    type: 'uint',
    default: 4096,
    description:
      "The initial size in bytes of iisnode's per-request buffer, which doubled as needed up to maxRequestBufferSize. nodehost streams bodies without such a buffer and accepts the setting for compatibility. The default is 4096.",
  },
  maxRequestBufferSize: {
    type: 'uint',
    default: 65536,
    description:
      'The largest request head, in bytes, forwarded to a worker (a larger one fails with 500.1005) and the largest response head accepted from it (500.1012). The default is 65536.',
  },
  uncFileChangesPollingInterval: {
    type: 'uint',
    default: 5000,
    description:
      'The polling period in milliseconds for watched files on network file systems, where change notifications do not work, and for re-opening watches on folders that were deleted and created again. The default is 5000.',
  },
  gracefulShutdownTimeout: {
    type: 'uint',
    default: 60000,
    description:
      'How long, in milliseconds, the workers of a recycled generation may finish their active requests before they are killed. The default is 60000; 0 kills them at once.',
  },
  loggingEnabled: {
    type: 'bool',
    default: true,
    description:
      'Whether the stdout and stderr of the workers are written to log files in logDirectory. The default is true; when false the output is discarded.',
  },
  logDirectory: {
    type: 'string',
    default: 'iisnode',
    expanded: true,
    ymlExpanded: true,
    description:
      'The folder of the worker log files, relative to the folder of the entry script unless absolute. The default is `iisnode`. The folder is served over HTTP (its `index.html` lists the logs), to loopback clients only unless the site authorises others.',
  },
  debuggingEnabled: {
    type: 'bool',
    default: true,
    description:
      'Whether the debugger URLs `<script>/<debuggerPathSegment>/` are active. The default is true (as in iisnode); the debugger is given to loopback clients only unless the site authorises others. When false, those URLs go to the application like any other.',
  },
  debuggerExtensionDll: {
    type: 'string',
    default: 'iisnode-inspector-0.7.3.dll',
    description:
      'Which node-inspector build iisnode deployed. nodehost uses the inspector built into node and accepts the setting for compatibility. The default is `iisnode-inspector-0.7.3.dll`.',
  },
  debugHeaderEnabled: {
    type: 'bool',
    default: false,
    description: 'Whether every proxied response gets an `iisnode-debug` header describing the worker that served it. The default is false.',
  },
  debuggerVirtualDir: {
    type: 'string',
    default: '',
    description:
      'A virtual directory under which iisnode deployed the debugger files. nodehost serves its debugger page itself and accepts the setting for compatibility. The default is empty. The value is not expanded.',
  },
  debuggerPathSegment: {
    type: 'string',
    default: 'debug',
    expanded: true,
    description:
      'The URL segment after the script name that opens the debugger, as in `/app.js/debug/`. The default is `debug`. `%VAR%` references are expanded in web.config and IISNODE_* values but not in iisnode.yml.',
  },
  debuggerPortRange: {
    type: 'string',
    default: '5058-6058',
    expanded: true,
    ymlKey: 'debugPortRange',
    description:
      'The ports the inspector of a debugged worker may listen on, as `N` or `N-M` (1025 ≤ N ≤ M ≤ 65535), taken round robin; the ports stay on 127.0.0.1 because nodehost tunnels the inspector through its own port. The default is `5058-6058`. In iisnode.yml the key is `debugPortRange` (an iisnode quirk: a `debuggerPortRange:` line there is ignored), and its value is not expanded.',
  },
  maxLogFileSizeInKB: {
    type: 'uint',
    default: 128,
    description: 'The size in KiB at which a worker log file is closed and a new one started. The default is 128.',
  },
  maxTotalLogFileSizeInKB: {
    type: 'uint',
    default: 1024,
    description: 'The most KiB all log files of an application may take together; the oldest files are deleted to stay under it. The default is 1024.',
  },
  maxLogFiles: {
    type: 'uint',
    default: 20,
    description: 'The most log files an application keeps; the oldest are deleted beyond it. The default is 20.',
  },
  devErrorsEnabled: {
    type: 'bool',
    default: true,
    description:
      "Whether a failure inside nodehost's iisnode handler (a worker that crashed or did not start) is answered with a diagnostic page showing the status, substatus and the end of the worker's stderr. The default is true, as in iisnode; nodehost shows the page to loopback clients only unless the site authorises others, and like iisnode sends it with status 200.",
  },
  flushResponse: {
    type: 'bool',
    default: false,
    description:
      'Whether each body chunk of a chunked response is flushed to the client as soon as it arrives from the worker, which lowers streaming latency at some CPU cost. The default is false.',
  },
  watchedFiles: {
    type: 'string',
    default: '*.js;iisnode.yml',
    expanded: true,
    ymlExpanded: true,
    description:
      'A `;`-separated list of files whose change recycles the application, relative to the folder of the entry script. Wildcards (`*`, `?`) are allowed only in the file name part and watching is not recursive, so subfolders must be listed (`lib/*.js`); entries that do not exist are ignored. The default is `*.js;iisnode.yml`.',
  },
  enableXFF: {
    type: 'bool',
    default: false,
    description:
      'Whether requests forwarded to node get the client address appended to `X-Forwarded-For` and an `X-Forwarded-Proto` header. The default is false.',
  },
  promoteServerVars: {
    type: 'string',
    default: '',
    description:
      'A comma-separated list of server variables (such as `REMOTE_ADDR` or `AUTH_USER`) sent to node as request headers named `X-iisnode-<NAME>`. The default is empty. The value is not expanded.',
  },
  configOverrides: {
    type: 'string',
    default: 'iisnode.yml',
    expanded: true,
    ymlKey: null,
    description:
      'The iisnode.yml file whose settings override every other source, relative to the folder of the entry script unless absolute. The default is `iisnode.yml`; a missing file means no overrides, and an empty value turns the file off. It cannot be set from iisnode.yml itself.',
  },
  recycleSignalEnabled: {
    type: 'bool',
    default: false,
    description:
      'Whether each worker gets an `IISNODE_CONTROL_PIPE` variable naming a Unix socket to which it can write `recycle` to recycle its application. The default is false.',
  },
  idlePageOutTimePeriod: {
    type: 'uint',
    default: 0,
    description:
      'The period in milliseconds after which iisnode trimmed the working set of idle workers on Windows. nodehost accepts the setting for compatibility and does nothing with it. The default is 0 (off).',
  },
  nodeProcessStickySessions: {
    type: 'bool',
    default: false,
    description: 'Whether a client keeps going to the same worker, through the cookie `iisnode.session.cookie`. The default is false.',
  },
  // nodehost's own settings: iisnode has no such attributes, so they are set in web.config
  // (same section), IISNODE_* variables or iisnode.yml like the others.
  watchedFilesPolling: {
    type: 'bool',
    default: false,
    description:
      'Whether watchedFiles are checked by polling every uncFileChangesPollingInterval ms instead of change notifications (inotify). The default is false: nodehost polls on its own where notifications do not work (network file systems such as NFS, CIFS/SMB and sshfs) and uses notifications everywhere else. This is a nodehost setting; iisnode has no such attribute.',
  },
  recycleKeepsOldOnFailure: {
    type: 'bool',
    default: false,
    description:
      'What happens when the new generation of a recycle cannot start (for example a syntax error in the new code). The default is false, as in iisnode: requests get the failure (the developer error page) until a later change fixes the application. When true, the old generation keeps serving and the failed deploy is reported in the host log and in the status. This is a nodehost setting; iisnode has no such attribute.',
  },
  overlappedRecycle: {
    type: 'bool',
    default: true,
    description:
      "Whether a recycle for new code (a change to watchedFiles, the recycle signal, `nodehost recycle`) lets the old generation keep taking new requests until every worker of the new one listens, so nobody waits for the new code to start. The default is true: a deploy then costs requests nothing, whatever the application's start-up time; the price is that both generations run side by side for that start-up time. When false, requests that arrive during the recycle wait for the new generation, as in iisnode. A recycle for a configuration change (web.config or iisnode.yml settings) always works the iisnode way, so the very next request sees the new configuration. This is a nodehost setting; iisnode has no such attribute.",
  },
  maxMemoryPerProcessMB: {
    type: 'uint',
    default: 0,
    description:
      'The resident memory budget of one worker in MiB, sampled at least every 2 s; a worker over it is replaced gracefully (its successor starts, it drains). The default is 0 (no limit). This is a nodehost setting; iisnode has no such attribute.',
  },
  maxRequestsPerProcess: {
    type: 'uint',
    default: 0,
    description:
      'After this many requests a worker is replaced gracefully (its successor starts, it drains). The default is 0 (no limit). This is a nodehost setting; iisnode has no such attribute.',
  },
  maxEventLoopBlockMs: {
    type: 'uint',
    default: 0,
    description:
      "The longest a worker's event loop may stay blocked, in ms: the host pings each ready worker over its IPC channel (answered by nodehost's preload from the worker's event loop, so the application cannot fake it) and replaces gracefully a worker that has not answered within this time (its successor starts, it drains, restart reason `event-loop`). A debug session's worker is not watched, since a paused debuggee cannot answer. The default is 0 (off). This is a nodehost setting; iisnode has no such attribute.",
  },
  maxHeapMB: {
    type: 'uint',
    default: 0,
    description:
      "The V8 heap budget of one worker in MiB (used heap, as reported by the worker's preload with each heartbeat, at least every second); a worker over it is replaced gracefully (restart reason `heap`). The default is 0 (no limit). This is a nodehost setting; iisnode has no such attribute.",
  },
  responseTimeout: {
    type: 'uint',
    default: 0,
    description:
      "How long a worker may take to send its response head once it has the request, in ms; past it the request is answered 504.1017 (NH_ERR_WORKER_RESPONSE_TIMEOUT), its connection to the worker is closed (the application sees `close`/`aborted`), its slot is freed and the host log names the worker's pid. It covers a worker that accepts requests and never answers while its event loop runs; `maxEventLoopBlockMs` covers one whose loop is stuck. The default is 0 (no limit), as in iisnode, so that long polling and other answers that wait for an event keep working; nginx's `proxy_read_timeout` is 60 s. This is a nodehost setting; iisnode has no such attribute.",
  },
  idleTimeout: {
    type: 'uint',
    default: 0,
    description:
      'After this many milliseconds without a request, every worker of the application is stopped; the next request starts them again (and waits for them). The default is 0 (never). This is a nodehost setting; iisnode has no such attribute.',
  },
  preload: {
    type: 'bool',
    default: false,
    description:
      'Whether the workers of the application start when nodehost starts instead of on its first request; `/ready` on the admin listener answers 503 until such an application has a serving generation. The default is false (iisnode starts an application on its first request). This is a nodehost setting; iisnode has no such attribute.',
  },
} as const satisfies Record<IisnodeSettingName, SpecBody>;

/** IISNODE_SCHEMA lists the 34 iisnode settings, then nodehost's own 10, in reference order; frozen. */
export const IISNODE_SCHEMA: readonly SettingSpec[] = Object.freeze(
  (Object.keys(SPECS) as IisnodeSettingName[]).map((name): SettingSpec => {
    const body: SpecBody = SPECS[name];
    return Object.freeze({
      name,
      type: body.type,
      default: body.default,
      defaultLabel: body.defaultLabel,
      description: body.description,
      expanded: body.expanded ?? false,
      ymlExpanded: body.ymlExpanded ?? false,
      ymlKey: body.ymlKey === undefined ? name : body.ymlKey,
      allowInfinite: body.allowInfinite ?? false,
    });
  }),
);

/** SETTINGS_BY_LOWER_NAME finds a spec by its name in lower case (env names are case-insensitive). */
export const SETTINGS_BY_LOWER_NAME: ReadonlyMap<string, SettingSpec> = new Map(IISNODE_SCHEMA.map((spec) => [spec.name.toLowerCase(), spec]));

/** SETTINGS_BY_NAME finds a spec by its exact (case-sensitive) web.config attribute name. */
export const SETTINGS_BY_NAME: ReadonlyMap<string, SettingSpec> = new Map(IISNODE_SCHEMA.map((spec) => [spec.name, spec]));

/** defaultIisnodeSettings returns a fresh, mutable object holding every schema default. */
export function defaultIisnodeSettings(): IisnodeSettings {
  const settings: Record<string, boolean | number | string> = {};
  for (const spec of IISNODE_SCHEMA) settings[spec.name] = spec.default;
  return settings as unknown as IisnodeSettings;
}

/** ParsedSetting is the outcome of parseSettingValue: a typed value, or why the text is not one. */
export type ParsedSetting = { readonly ok: true; readonly value: boolean | number | string } | { readonly ok: false; readonly message: string };

/**
 * parseSettingValue converts the raw text of one setting from one source into its typed value,
 * following that source's rules (spec/iisnode.md 1.1 and 1.3): web.config takes booleans
 * `true`/`false` and decimal uints (plus `Infinite` where allowed); IISNODE_* variables take
 * `true`/`false`/`1`/`0` and decimal uints; iisnode.yml takes `true`/`1`/`yes`/`false`/`0`/`no`
 * and reads numbers like C `atol`. Booleans are case-insensitive everywhere. Strings are kept
 * verbatim (no expansion here). It never throws.
 */
export function parseSettingValue(spec: SettingSpec, raw: string, origin: SettingOriginKind): ParsedSetting {
  switch (spec.type) {
    case 'string':
      return { ok: true, value: raw };
    case 'bool':
      return parseBool(spec, raw, origin);
    case 'uint':
      return origin === 'yml' ? { ok: true, value: atolAsUint(raw) } : parseStrictUint(spec, raw, origin);
  }
}

const BOOL_WORDS: Record<SettingOriginKind, ReadonlyMap<string, boolean>> = {
  'web.config': new Map([
    ['true', true],
    ['false', false],
  ]),
  env: new Map([
    ['true', true],
    ['false', false],
    ['1', true],
    ['0', false],
  ]),
  yml: new Map([
    ['true', true],
    ['false', false],
    ['1', true],
    ['0', false],
    ['yes', true],
    ['no', false],
  ]),
};

function parseBool(spec: SettingSpec, raw: string, origin: SettingOriginKind): ParsedSetting {
  const value = BOOL_WORDS[origin].get(raw.toLowerCase());
  if (value !== undefined) return { ok: true, value };
  const allowed = [...BOOL_WORDS[origin].keys()].join(', ');
  return { ok: false, message: `${spec.name} must be a boolean (${allowed}), not '${raw}'` };
}

function parseStrictUint(spec: SettingSpec, raw: string, origin: SettingOriginKind): ParsedSetting {
  // iisnode reads IISNODE_* numbers itself and has no `Infinite` there (spec 1.1), so only
  // web.config, where IIS applies the schema's allowInfinite flag, accepts the word.
  if (spec.allowInfinite && origin === 'web.config' && raw.toLowerCase() === 'infinite') return { ok: true, value: UINT_MAX };
  if (/^[0-9]+$/.test(raw)) {
    const value = Number(raw);
    if (value <= UINT_MAX) return { ok: true, value };
    return { ok: false, message: `${spec.name} must be at most ${UINT_MAX}, not ${raw}` };
  }
  const infinite = spec.allowInfinite && origin === 'web.config' ? ' or Infinite' : '';
  return { ok: false, message: `${spec.name} must be a non-negative decimal integer${infinite}, not '${raw}'` };
}

/**
 * atolAsUint reads a number the way iisnode's yml parser does: C `atol` (leading white space,
 * an optional sign, then digits up to the first non-digit; no digits gives 0), with MSVC's
 * 32-bit `long` clamping on overflow, stored into a DWORD, so `-1` becomes 4294967295.
 */
function atolAsUint(raw: string): number {
  const match = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)/.exec(raw);
  const digits = match?.[2] ?? '';
  if (digits === '') return 0;
  let value = Number(digits);
  if (match?.[1] === '-') value = -value;
  value = Math.max(-2147483648, Math.min(2147483647, value));
  return value >>> 0;
}

/**
 * expandEnvironment replaces each `%NAME%` in value with the environment variable NAME, found
 * case-insensitively as on Windows (so `%node_env%` picks up NODE_ENV; an exact-case match is
 * preferred when Linux has several spellings). Unknown names, and `%%`, stay as written, like
 * Windows `ExpandEnvironmentStrings`, and scanning resumes after the closing `%`.
 */
export function expandEnvironment(value: string, env: NodeJS.ProcessEnv): string {
  if (!value.includes('%')) return value;
  return value.replace(/%([^%]*)%/g, (whole: string, name: string) => {
    if (name === '') return whole;
    const found = lookupEnv(env, name);
    return found === undefined ? whole : found;
  });
}

function lookupEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const exact = env[name];
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  for (const key of Object.keys(env)) {
    if (key.toLowerCase() === lower) return env[key];
  }
  return undefined;
}
