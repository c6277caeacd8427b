/**
 * Turning `nodeProcessCommandLine` and `interceptor` into an executable and its arguments.
 * Sites copied from Windows name `node.exe` or a Windows path to it; those run unedited on
 * Linux with the node that runs nodehost (`process.execPath`), with a warning.
 */

/**
 * splitCommandLine splits a command line into words the way the Windows C runtime does for
 * the cases that matter here: words are separated by spaces or tabs; double quotes group
 * (`"C:\Program Files\nodejs\node.exe"`) and may sit inside a word (`--title="a b"` →
 * `--title=a b`); `""` inside quotes is a literal quote; `""` alone is an empty word.
 * Backslashes are literal, so Windows paths survive. Never throws; an unclosed quote runs to
 * the end.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') {
      inWord = true;
      if (quoted && line[i + 1] === '"') {
        word += '"';
        i++;
      } else {
        quoted = !quoted;
      }
    } else if ((ch === ' ' || ch === '\t') && !quoted) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * isWindowsPath tells whether a word names a Windows file: a drive letter (`C:\`, `c:/`), a
 * backslash anywhere, or an unexpanded `%VAR%` reference (which Linux shells never produce).
 */
export function isWindowsPath(word: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(word) || word.includes('\\') || /%[^%\s]+%/.test(word);
}

/** isWindowsNode tells whether the first word of a command line names a Windows node executable. */
export function isWindowsNode(word: string): boolean {
  return /(^|[\\/])node\.exe$/i.test(word) || (isWindowsPath(word) && /node(\.exe)?$/i.test(word));
}

/** NodeCommand is what to spawn: an executable and the arguments before the entry script. */
export interface NodeCommand {
  readonly command: string;
  readonly args: readonly string[];
  /** Human-readable notes about what was mapped, for one host log warning each. */
  readonly warnings: readonly string[];
}

/**
 * buildNodeCommand combines `nodeProcessCommandLine` and `interceptor` into the command to
 * spawn (the entry script is appended by the caller). A Windows node executable maps to
 * `process.execPath`; an interceptor given as a Windows path (iisnode's default
 * `"%programfiles%\iisnode\interceptor.js"`) is dropped, because nodehost captures output
 * itself and the file cannot exist on Linux. An empty command line also maps to
 * `process.execPath` (nodehost's choice: there is nothing else sensible to run).
 */
export function buildNodeCommand(nodeProcessCommandLine: string, interceptor: string, execPath = process.execPath): NodeCommand {
  const words = splitCommandLine(nodeProcessCommandLine);
  const warnings: string[] = [];
  let command = words.length > 0 ? words[0] : '';
  if (command === '') {
    command = execPath;
    warnings.push(`nodeProcessCommandLine is empty; using ${execPath}`);
  } else if (isWindowsNode(command)) {
    warnings.push(`nodeProcessCommandLine names the Windows executable ${command}; using ${execPath}`);
    command = execPath;
  }
  const args = words.slice(1);
  if (interceptor.trim() !== '') {
    const interceptorWords = splitCommandLine(interceptor);
    if (interceptorWords.some(isWindowsPath)) {
      warnings.push(`interceptor ${interceptor} is a Windows path; running the script directly (nodehost captures output itself)`);
    } else {
      args.push(...interceptorWords);
    }
  }
  return { command, args, warnings };
}
