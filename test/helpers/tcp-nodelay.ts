/** tcpNoDelay reads TCP_NODELAY of the socket a process holds for a connection (see tcp-nodelay.py). */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** tcpNoDelay tells whether process `pid`'s end of the connection from local port `clientPort` has TCP_NODELAY set. */
export async function tcpNoDelay(pid: number, clientPort: number): Promise<boolean> {
  const { stdout } = await run('python3', [fileURLToPath(new URL('./tcp-nodelay.py', import.meta.url)), String(pid), String(clientPort)]);
  return stdout.trim() !== '0';
}
