/**
 * The one table of nodehost errors. Every error the host raises or reports carries a stable
 * code from this table (`NH_ERR_<AREA>_<WHAT>`), never reused, each documented in
 * `docs/errors.md` (a test keeps the two in step). HTTP status and IIS substatus are given
 * where a request fails because of the error.
 */

export interface ErrorSpec {
  /** HTTP status a request gets when it fails with this error. */
  readonly status: number;
  /** IIS substatus (e.g. 1002 for 500.1002), 0 when none. */
  readonly substatus: number;
  /** One sentence saying what went wrong, for docs and logs. */
  readonly summary: string;
}

/** ERRORS lists every code. Add new codes at the end of their area; never rename or reuse one. */
export const ERRORS = {
  // Configuration
  NH_ERR_CONFIG_XML: { status: 500, substatus: 19, summary: 'A web.config file is not well-formed XML.' },
  NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE: { status: 500, substatus: 19, summary: 'An element carries an attribute that the section does not define.' },
  NH_ERR_CONFIG_BAD_VALUE: { status: 500, substatus: 19, summary: 'A setting has a value of the wrong type or out of range.' },
  NH_ERR_CONFIG_MISSING_ATTRIBUTE: { status: 500, substatus: 19, summary: 'A required attribute is missing.' },
  NH_ERR_CONFIG_DUPLICATE_KEY: { status: 500, substatus: 19, summary: 'A collection entry is added twice without a <remove> in between.' },
  NH_ERR_CONFIG_YML: { status: 500, substatus: 1032, summary: 'The iisnode.yml overrides file has a syntax or value error.' },
  NH_ERR_CONFIG_ENV: { status: 500, substatus: 1031, summary: 'An IISNODE_<setting> environment variable has an invalid value.' },
  NH_ERR_CONFIG_HOST: { status: 500, substatus: 0, summary: 'The host configuration file (nodehost.yml) is invalid.' },
  NH_ERR_CONFIG_READ: { status: 500, substatus: 19, summary: 'A configuration file exists but cannot be read.' },
  NH_ERR_CONFIG_UNKNOWN_ELEMENT: { status: 500, substatus: 19, summary: 'A section that nodehost reads contains an element that the section does not define.' },
  NH_ERR_CONFIG_EDIT: {
    status: 500,
    substatus: 0,
    summary:
      '`nodehost config get|set` cannot do what it was asked: no such site or folder (for `rewrite test` too), a file that is not well-formed, or an edit the file would not accept.',
  },

  // Worker processes
  NH_ERR_WORKER_SPAWN: { status: 500, substatus: 1028, summary: 'The node process could not be started: nodeProcessCommandLine names no executable.' },
  NH_ERR_WORKER_EXITED_BEFORE_READY: { status: 500, substatus: 1002, summary: 'The node process exited before it accepted a connection on PORT.' },
  NH_ERR_WORKER_NOT_LISTENING: {
    status: 500,
    substatus: 1001,
    summary: 'The node process did not accept a connection on PORT within maxNamedPipeConnectionRetry x namedPipeConnectionRetryDelay.',
  },
  NH_ERR_WORKER_CONNECTION_LOST: { status: 500, substatus: 1013, summary: 'The connection to the node process ended before its response head arrived.' },
  NH_ERR_WORKER_BAD_RESPONSE: { status: 500, substatus: 1014, summary: 'The node process sent a response head that cannot be parsed.' },
  NH_ERR_WORKER_RESPONSE_TIMEOUT: { status: 504, substatus: 1017, summary: 'The node process sent no response head within responseTimeout.' },
  NH_ERR_WORKER_RESPONSE_BODY: { status: 500, substatus: 1016, summary: 'The response body from the node process was cut short.' },
  NH_ERR_WORKER_REQUEST_HEAD_TOO_LARGE: { status: 500, substatus: 1005, summary: 'The request head is larger than maxRequestBufferSize.' },
  NH_ERR_APP_FULL: { status: 503, substatus: 1002, summary: 'Every process of the application already has maxConcurrentRequestsPerProcess active requests.' },
  NH_ERR_APP_RECYCLING: { status: 503, substatus: 1001, summary: 'The application is shutting down and takes no new requests.' },
  NH_ERR_APP_SCRIPT_MISSING: { status: 404, substatus: 0, summary: 'The entry script of the application does not exist.' },
  NH_ERR_WORKER_RESPONSE_HEAD_TOO_LARGE: {
    status: 500,
    substatus: 1012,
    summary: 'The response head from the node process is larger than maxRequestBufferSize.',
  },
  NH_ERR_DEBUG_NO_PORT: {
    status: 500,
    substatus: 1025,
    summary: 'No port of debuggerPortRange is free on 127.0.0.1 (or the range is malformed), so no debug session can start.',
  },
  NH_ERR_DEBUG_INSPECTOR: {
    status: 500,
    substatus: 1026,
    summary: 'The inspector of the debugged process did not answer, so its WebSocket cannot be tunnelled.',
  },
  NH_ERR_DEBUG_FORBIDDEN: {
    status: 403,
    substatus: 0,
    summary: 'The debugger URLs are given to loopback clients, and to others only when the site authenticates them.',
  },
  NH_ERR_DEBUG_DISABLED: {
    status: 409,
    substatus: 0,
    summary: 'A debug session was asked for through the admin API, but the application has debuggingEnabled="false".',
  },
  NH_ERR_APP_NEEDS_ONE_HOST_PROCESS: {
    status: 500,
    substatus: 0,
    summary: 'The application uses nodeProcessStickySessions or the debugger, which need one dispatcher, but nodehost.yml sets hostProcesses above 1.',
  },

  // Static files and request filtering
  NH_ERR_FILTER_HIDDEN_SEGMENT: {
    status: 404,
    substatus: 8,
    summary: 'A segment of the URL is hidden by request filtering (hiddenSegments: the IIS defaults and the entries of the site).',
  },
  NH_ERR_FILTER_URL_SEQUENCE: { status: 404, substatus: 5, summary: 'The URL contains a sequence listed in requestFiltering/denyUrlSequences.' },
  NH_ERR_FILTER_VERB: { status: 404, substatus: 6, summary: 'The request method is denied by requestFiltering/verbs.' },
  NH_ERR_FILTER_FILE_EXTENSION: { status: 404, substatus: 7, summary: 'The file extension of the URL is denied by requestFiltering/fileExtensions.' },
  NH_ERR_FILTER_DOUBLE_ESCAPED: {
    status: 404,
    substatus: 11,
    summary: 'The URL path is double escaped (a + or an escaped %) and allowDoubleEscaping is false.',
  },
  NH_ERR_FILTER_URL_TOO_LONG: { status: 404, substatus: 14, summary: 'The URL path is longer than requestLimits maxUrl.' },
  NH_ERR_FILTER_QUERY_TOO_LONG: { status: 404, substatus: 15, summary: 'The query string is longer than requestLimits maxQueryString.' },
  NH_ERR_FILTER_QUERY_SEQUENCE: {
    status: 404,
    substatus: 18,
    summary: 'The query string contains a sequence listed in requestFiltering/denyQueryStringSequences.',
  },
  NH_ERR_FILTER_CONTENT_TOO_LARGE: { status: 413, substatus: 1, summary: 'The request Content-Length is larger than requestLimits maxAllowedContentLength.' },
  NH_ERR_FILTER_HEADER_TOO_LARGE: { status: 431, substatus: 0, summary: 'A request header is longer than its requestLimits headerLimits sizeLimit.' },

  // Authentication, authorization and IP restrictions
  NH_ERR_AUTH_LOGON_FAILED: { status: 401, substatus: 1, summary: 'The Basic credentials name no user of the users file, or the password does not match.' },
  NH_ERR_AUTH_REQUIRED: {
    status: 401,
    substatus: 2,
    summary: 'Anonymous access is off and the request carries no Basic credentials (or no authentication scheme is enabled).',
  },
  NH_ERR_AUTH_RATE_LIMITED: {
    status: 429,
    substatus: 0,
    summary:
      'The client address had too many failed logins (basicAuthentication maxFailedLogins within failedLoginWindowSeconds) and is locked out for failedLoginLockoutSeconds.',
  },
  NH_ERR_AUTHZ_ANONYMOUS_DENIED: {
    status: 401,
    substatus: 2,
    summary: 'An authorization rule denies anonymous users this URL and verb; the client may log in.',
  },
  NH_ERR_AUTHZ_DENIED: { status: 403, substatus: 0, summary: 'The authorization rules deny this authenticated user the URL and verb.' },
  NH_ERR_IP_DENIED: {
    status: 403,
    substatus: 503,
    summary: 'ipSecurity denies the client address (a matching entry with allowed="false", or allowUnlisted="false").',
  },
  NH_ERR_IP_DENIED_UNAUTHORIZED: { status: 401, substatus: 503, summary: 'ipSecurity denies the client address, with denyAction="Unauthorized".' },
  NH_ERR_IP_DENIED_NOT_FOUND: { status: 404, substatus: 503, summary: 'ipSecurity denies the client address, with denyAction="NotFound".' },
  NH_ERR_IP_DYNAMIC_DENIED: {
    status: 403,
    substatus: 502,
    summary: 'dynamicIpSecurity denies the client address: too many concurrent requests, or too many requests in the interval.',
  },
  NH_ERR_IP_DYNAMIC_DENIED_UNAUTHORIZED: {
    status: 401,
    substatus: 502,
    summary: 'dynamicIpSecurity denies the client address, with denyAction="Unauthorized".',
  },
  NH_ERR_IP_DYNAMIC_DENIED_NOT_FOUND: { status: 404, substatus: 502, summary: 'dynamicIpSecurity denies the client address, with denyAction="NotFound".' },
  NH_ERR_USERS_FILE: {
    status: 500,
    substatus: 0,
    summary:
      'The users file of the site (nodehost.yml users) cannot be read, or a line of it is not name:hash[:roles] with a known hash (host log; the line is skipped).',
  },

  // URL Rewrite
  NH_ERR_REWRITE_RULE: { status: 500, substatus: 50, summary: 'An inbound rewrite rule is malformed (pattern, expression, unknown rewrite map, bad action).' },
  NH_ERR_REWRITE_OUTBOUND: { status: 500, substatus: 52, summary: 'An outbound rewrite rule, precondition or custom tag set is malformed.' },
  NH_ERR_REWRITE_BAD_URL: {
    status: 500,
    substatus: 50,
    summary: 'A Rewrite action produced a URL that cannot be used (bad escaping, or a path above the site root).',
  },
  NH_ERR_REWRITE_PROXY: {
    status: 502,
    substatus: 3,
    summary: 'A Rewrite to an absolute URL (reverse proxy) could not reach the target or lost it mid-response.',
  },
  NH_ERR_STATIC_NOT_FOUND: {
    status: 404,
    substatus: 0,
    summary:
      'The file or directory named by the URL does not exist, or is one the static handler never serves (node_modules, web.config, iisnode.yml, dot-files).',
  },
  NH_ERR_STATIC_MIME_UNKNOWN: { status: 404, substatus: 3, summary: 'The file extension has no staticContent mimeMap entry, so the file is not served.' },
  NH_ERR_STATIC_METHOD: { status: 405, substatus: 0, summary: 'The static file handler answers only GET and HEAD.' },
  NH_ERR_STATIC_PRECONDITION: {
    status: 412,
    substatus: 0,
    summary: 'The If-Match or If-Unmodified-Since condition of the request does not hold for the file.',
  },
  NH_ERR_STATIC_RANGE: { status: 416, substatus: 0, summary: 'The Range header names no byte of the file.' },
  NH_ERR_STATIC_ACCESS: { status: 403, substatus: 0, summary: 'nodehost is not allowed to read the file or directory (file system permissions).' },
  NH_ERR_STATIC_READ: { status: 500, substatus: 0, summary: 'Reading a static file or directory failed.' },
  NH_ERR_STATIC_DIRECTORY_LISTING: {
    status: 403,
    substatus: 14,
    summary: 'The directory has no default document (or defaultDocument is disabled) and directory browsing is off.',
  },

  // Logs
  NH_ERR_LOGS_REMOTE: {
    status: 403,
    substatus: 0,
    summary: 'An application log folder (index, files, live tail) was requested by a client that is neither on this machine nor authenticated by the site.',
  },
  NH_ERR_LOGS_WRITE: {
    status: 500,
    substatus: 0,
    summary: 'A worker log file or its folder cannot be written; output is dropped until a write succeeds again (host log only).',
  },
  NH_ERR_LOGS_TAIL_NO_FILE: {
    status: 400,
    substatus: 0,
    summary: 'A live tail of a log folder was requested without naming one of its log files (tail?file=<name>.txt).',
  },
  NH_ERR_LOGS_TAIL_MISSING: {
    status: 404,
    substatus: 0,
    summary: 'The log file named for a live tail does not exist (it may have been deleted by the quota).',
  },
  NH_ERR_ACCESS_LOG_WRITE: { status: 500, substatus: 0, summary: 'The access log of a site cannot be written; its lines are dropped (host log only).' },

  // Server and command line
  NH_ERR_SERVER_LISTEN: { status: 500, substatus: 0, summary: 'The listener could not bind its address and port.' },
  NH_ERR_SERVER_PRIVILEGES: {
    status: 500,
    substatus: 0,
    summary: 'The host could not switch to the user and group of nodehost.yml after binding its ports (an unknown name, or the host was not started as root).',
  },
  NH_ERR_SERVER_NO_SITE: {
    status: 404,
    substatus: 0,
    summary: 'No site has a binding for the host name the request asked for (its Host header, or SNI name), and nodehost.yml sets no defaultSite.',
  },
  NH_ERR_TLS_CERTIFICATE: {
    status: 500,
    substatus: 0,
    summary: 'A certificate or private key file of an https binding cannot be read or parsed (PEM expected: the certificate, then its chain; the key).',
  },
  NH_ERR_ACME_ORDER: {
    status: 500,
    substatus: 0,
    summary:
      'An automatic certificate could not be obtained from the ACME directory (host log only): the site keeps the certificate it serves, and the order is tried again after a backoff (1 minute, doubling up to 12 hours).',
  },
  NH_ERR_ACME_STORAGE: {
    status: 500,
    substatus: 0,
    summary: 'The ACME storage folder (nodehost.yml `acme: { storage }`) cannot be created, read or written: nodehost does not start.',
  },
  NH_ERR_CLI_USAGE: { status: 500, substatus: 0, summary: 'The command line is not valid.' },
  NH_ERR_CLIENT_ABORTED: {
    status: 499,
    substatus: 0,
    summary: 'The client closed the connection before the response was complete (access and host log only: nothing more can be sent; 499 as nginx logs it).',
  },
  NH_ERR_REQUEST_TARGET: {
    status: 400,
    substatus: 0,
    summary: 'The request target cannot name a resource: bad percent-encoding, a NUL byte, or `..` above the root.',
  },
  NH_ERR_REQUEST_HOST: {
    status: 400,
    substatus: 0,
    summary: 'The request has more than one Host field (RFC 9112 §3.2); it is refused and the connection closed, never forwarded.',
  },
  NH_ERR_REQUEST_TRANSFER_ENCODING: {
    status: 400,
    substatus: 0,
    summary:
      'The request has a Transfer-Encoding whose last coding is not chunked, so its end cannot be known (RFC 9112 §6.1); refused and the connection closed, never forwarded.',
  },
  NH_ERR_REQUEST_TRACE: {
    status: 405,
    substatus: 0,
    summary:
      'TRACE is refused and never forwarded: it would echo the request, cookies and credentials included, to whoever can make a client send it (nginx answers 405 too).',
  },
  NH_ERR_REQUEST_UNHANDLED: { status: 404, substatus: 0, summary: 'No handler claimed the URL.' },
  NH_ERR_INTERNAL: { status: 500, substatus: 0, summary: 'An unexpected failure inside nodehost (a bug).' },

  // Admin API (docs/admin.md)
  NH_ERR_ADMIN_NOT_FOUND: { status: 404, substatus: 0, summary: 'The admin API has no such path.' },
  NH_ERR_ADMIN_METHOD: { status: 405, substatus: 0, summary: 'The admin API path exists but not with this method (the Allow header names the right one).' },
  NH_ERR_ADMIN_UNAUTHORIZED: {
    status: 401,
    substatus: 0,
    summary: 'The TCP admin listener has a token and the request did not carry it as Authorization: Bearer <token>.',
  },
  NH_ERR_ADMIN_BAD_REQUEST: { status: 400, substatus: 0, summary: 'An admin API request lacks a parameter it needs (e.g. start without ?app=).' },
  NH_ERR_ADMIN_NO_APP: { status: 404, substatus: 0, summary: 'No running application has the URL given with ?app= (recycle, stop).' },
  NH_ERR_ADMIN_APP_START: {
    status: 500,
    substatus: 0,
    summary: 'The application named by ?app= could not be started (no such script, or its configuration has errors).',
  },
  NH_ERR_ADMIN_RELOAD: { status: 500, substatus: 0, summary: 'A reload found configuration errors; the last good configuration keeps serving.' },
  NH_ERR_ADMIN_LISTEN: {
    status: 500,
    substatus: 0,
    summary: 'The admin listener could not start: its address is taken, or it listens off loopback without admin.token.',
  },
  NH_ERR_ADMIN_CROSS_SITE: {
    status: 403,
    substatus: 0,
    summary:
      'A POST on the TCP admin listener carried neither Authorization nor X-Nodehost-Admin: a page of another site cannot send those headers, so the request is refused as a possible cross-site request.',
  },
  NH_ERR_ADMIN_HOST: {
    status: 403,
    substatus: 0,
    summary:
      'A request to a TCP admin listener without a token named a Host that is not loopback (localhost, 127.x, [::1]): refused so that a DNS-rebinding page cannot reach the listener.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** Where in a configuration file an error was found. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly column?: number;
}

/**
 * NodehostError is the only error type nodehost throws on purpose. `code` is stable;
 * `status`/`substatus` come from the table; `source` names the file and line for
 * configuration errors.
 */
export class NodehostError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly substatus: number;
  readonly source: SourcePosition | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; source?: SourcePosition } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NodehostError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.substatus = ERRORS[code].substatus;
    this.source = options.source;
  }

  /** where() renders the source as `file:line[:column]`, or '' when unknown. */
  where(): string {
    if (!this.source) return '';
    const { file, line, column } = this.source;
    return column === undefined ? `${file}:${line}` : `${file}:${line}:${column}`;
  }

  override toString(): string {
    const at = this.where();
    return at ? `${at}: ${this.message} [${this.code}]` : `${this.message} [${this.code}]`;
  }
}
