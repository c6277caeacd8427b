/**
 * systemdUnit writes the text of `nodehost.service` (`nodehost service install`): a Type=notify
 * service (the host sends READY=1 once it listens, RELOADING=1 around a SIGHUP reload and
 * STOPPING=1, see server/systemd-notify.ts) that systemd restarts when it fails, with the file
 * system read-only except the folders nodehost writes.
 */

/** SystemdUnitOptions: what the unit runs and may write. Paths are absolute. */
export interface SystemdUnitOptions {
  /** The node binary (process.execPath). */
  readonly node: string;
  /** The nodehost script (bin/nodehost). */
  readonly script: string;
  /** `serve` arguments after the command: `--config <file>` or the site root. */
  readonly serveArgs: readonly string[];
  /** The account to run as; undefined: root. */
  readonly user: string | undefined;
  /** Folders the host writes (site root: worker log files; access logs); each may be missing at start. */
  readonly writablePaths: readonly string[];
  /** The working directory (the site root or the folder of the configuration file). */
  readonly workingDirectory: string;
  /** The Documentation= URI (the installed docs/operations.md). */
  readonly documentation: string;
}

/** systemdUnit returns the unit file's text. */
export function systemdUnit(options: SystemdUnitOptions): string {
  const exec = [options.node, options.script, 'serve', ...options.serveArgs].map(quoteArg).join(' ');
  // /tmp stays shared and writable (no PrivateTmp): the worker sockets and the control socket
  // live there, and `nodehost status|recycle` run from a shell must find the control socket.
  const writable = [...new Set(options.writablePaths)].map((p) => `-${quoteArg(p)}`);
  return `[Unit]
Description=nodehost: Node.js applications hosted the iisnode way
Documentation=${options.documentation}
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
# The READY/RELOADING/STOPPING messages are sent by a helper process the host starts
# (node cannot send a Unix datagram itself), so messages from the whole service are accepted.
NotifyAccess=all
ExecStart=${exec}
ExecReload=/bin/kill -HUP $MAINPID
WorkingDirectory=${quoteArg(options.workingDirectory)}
${options.user === undefined ? '' : `User=${options.user}\n`}Environment=NODE_ENV=production
Restart=on-failure
RestartSec=2s
# SIGTERM to the host only: it drains requests and stops its workers itself; what is left
# when TimeoutStopSec runs out gets SIGKILL.
KillMode=mixed
KillSignal=SIGTERM
TimeoutStopSec=90s
LimitNOFILE=65536
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${['/tmp', ...writable].join(' ')}
ProtectControlGroups=yes
ProtectKernelModules=yes
ProtectKernelTunables=yes
RestrictSUIDSGID=yes

[Install]
WantedBy=multi-user.target
`;
}

/** quoteArg quotes a unit-file word when it holds a space, a quote, a backslash or a `$`/`%` (systemd.syntax(7)). */
function quoteArg(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (!/[\s"'\\]/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
