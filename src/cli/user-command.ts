/**
 * `nodehost user add <file> <name> [--roles a,b]`: adds or replaces a user of a users file
 * (the file nodehost.yml `users:` names) with an scrypt hash of a password asked for on the
 * terminal without echo, or read from the first line of stdin when stdin is not a terminal
 * (`echo "$PASSWORD" | nodehost user add ...`). A running server picks the change up at the
 * next login.
 */
import type { Command } from 'commander';
import { hashPassword } from '../modules/authentication/password-hash.js';
import { writeUserEntry } from '../modules/authentication/users-file.js';

interface UserAddFlags {
  roles?: string;
}

/** registerUserCommand adds the `user` command to the program. */
export function registerUserCommand(program: Command): void {
  const user = program.command('user').description('manage the users file of Basic authentication');
  user
    .command('add')
    .description('add a user to a users file, or replace its password and roles (password from the terminal, or stdin)')
    .argument('<file>', 'the users file (created when missing)')
    .argument('<name>', 'the user name (no colon)')
    .option('--roles <roles>', 'comma-separated roles, for authorization rules with roles="..."')
    .addHelpText(
      'after',
      `
Examples:
  nodehost user add /etc/nodehost/users alice --roles admins
  echo "$PASSWORD" | nodehost user add /etc/nodehost/users deploy

Exit codes: 0 saved, 1 an empty password or a file that cannot be written, 2 usage error (a name or role with a colon or blanks).`,
    )
    .action(addUser);
}

async function addUser(file: string, name: string, flags: UserAddFlags): Promise<void> {
  if (name === '' || /[:\s]/.test(name)) {
    process.stderr.write('nodehost: a user name must not be empty or contain a colon or blanks\n');
    process.exitCode = 2;
    return;
  }
  const roles = (flags.roles ?? '')
    .split(',')
    .map((role) => role.trim())
    .filter((role) => role !== '');
  if (roles.some((role) => role.includes(':'))) {
    process.stderr.write('nodehost: a role must not contain a colon\n');
    process.exitCode = 2;
    return;
  }
  const password = process.stdin.isTTY ? await askHidden(`Password for ${name}: `) : await firstLineOfStdin();
  if (password === '') {
    process.stderr.write('nodehost: the password is empty\n');
    process.exitCode = 1;
    return;
  }
  writeUserEntry(file, name, await hashPassword(password), roles);
  process.stdout.write(`${file}: user ${name} saved${roles.length === 0 ? '' : ` (roles ${roles.join(',')})`}\n`);
}

async function firstLineOfStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

/** askHidden reads one line from the terminal in raw mode, echoing nothing. */
function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    let text = '';
    const done = (value: string | Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (value instanceof Error) reject(value);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return done(text);
        if (char === '\u0003') return done(new Error('interrupted'));
        if (char === '\u007f' || char === '\b') text = text.slice(0, -1);
        else text += char;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}
