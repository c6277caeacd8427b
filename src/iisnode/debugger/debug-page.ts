/**
 * The page at `<app>/<segment>/` while a debug session runs: what is happening (one worker with
 * the inspector, requests go to it), the DevTools link to copy (`devtools://` links cannot be
 * opened from a web page), and how to attach from chrome://inspect or VS Code.
 */
import { escapeHtml } from '../../http/escape-html.js';

/** DebugPageFacts are what the page shows. */
export interface DebugPageFacts {
  /** host[:port] the client used. */
  readonly host: string;
  readonly isHttps: boolean;
  /** URL path of the app's debugger folder, e.g. `/app.js/debug`. */
  readonly debugPath: string;
  readonly scriptPath: string;
  readonly port: number;
  readonly isBreak: boolean;
  readonly pid: number;
}

/** debugWebSocketUrl is the tunnelled inspector URL without scheme: `<host>/app.js/debug/ws`. */
export function debugWebSocketUrl(facts: Pick<DebugPageFacts, 'host' | 'debugPath'>): string {
  return `${facts.host}${facts.debugPath}/ws`;
}

/** renderDebugPage renders the session page. */
export function renderDebugPage(facts: DebugPageFacts): string {
  const ws = debugWebSocketUrl(facts);
  const scheme = facts.isHttps ? 'wss' : 'ws';
  const devtools = `devtools://devtools/bundled/js_app.html?${scheme}=${ws}`;
  const e = escapeHtml;
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>nodehost debugger: ' +
    e(facts.debugPath) +
    '</title>' +
    '<style>body{font-family:system-ui,sans-serif;margin:2em auto;max-width:52em;padding:0 1em;line-height:1.5;color:#222}' +
    'input{width:100%;font-family:monospace;padding:.4em}code,pre{background:#f3f3f3;padding:.1em .3em}pre{padding:.8em;overflow:auto}</style></head><body>\n' +
    '<h1>Debugging ' +
    e(facts.scriptPath) +
    '</h1>\n' +
    '<p>The application now runs as <b>one</b> node process (pid ' +
    facts.pid +
    ') started with <code>--inspect' +
    (facts.isBreak ? '-brk' : '') +
    '=127.0.0.1:' +
    facts.port +
    '</code>. Every request to the application goes to this process until the session ends. ' +
    (facts.isBreak ? 'The process is paused on the first line of the application until a debugger resumes it; requests wait meanwhile. ' : '') +
    'The inspector listens on 127.0.0.1 only; nodehost tunnels it through this site at <code>' +
    scheme +
    '://' +
    e(ws) +
    '</code>, so no other port needs to be open.</p>\n' +
    '<h2>Chrome DevTools</h2>\n<p>Copy this address into the address bar of Chrome, Edge or Chromium (browsers do not let pages open it):</p>\n' +
    '<p><input id="devtools" readonly value="' +
    e(devtools) +
    '" onclick="this.select()"> <button onclick="navigator.clipboard.writeText(document.getElementById(\'devtools\').value)">Copy</button></p>\n' +
    '<p>On this machine you can also open <code>chrome://inspect</code>, choose <i>Configure…</i>, add <code>127.0.0.1:' +
    facts.port +
    '</code>, and click <i>inspect</i> under the target that appears.</p>\n' +
    '<h2>VS Code</h2>\n<p>Add this configuration to <code>.vscode/launch.json</code> and start it:</p>\n<pre>' +
    e(JSON.stringify({ type: 'node', request: 'attach', name: 'nodehost', websocketAddress: `${scheme}://${ws}` }, null, 2)) +
    '</pre>\n' +
    '<h2>Ending the session</h2>\n<p><a href="' +
    e(facts.debugPath) +
    '/?kill">' +
    e(facts.debugPath) +
    '/?kill</a> stops the debugged process; ' +
    'the application then returns to its normal processes. A crash of the debugged process ends the session too.</p>\n' +
    '</body></html>\n'
  );
}
