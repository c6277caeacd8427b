/**
 * The password hashes a users file may hold: scrypt from node:crypto, nodehost's own format
 * `$scrypt$N=16384,r=8,p=1$<salt base64>$<hash base64>`, and bcrypt as `htpasswd -B` writes it
 * (`$2y$`, `$2a$`, `$2b$`), checked with bcryptjs: pure JavaScript, no native build, no
 * dependencies, the library most Node projects use for this. Both comparisons are constant-time.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** SCRYPT_PARAMETERS are what hashPassword uses: RFC 7914's interactive-login cost (N=2^14, r=8, p=1). */
export const SCRYPT_PARAMETERS = Object.freeze({ N: 16384, r: 8, p: 1 });

const SCRYPT = /^\$scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;
const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

/** hashKind tells which verifier a stored hash needs; undefined when nodehost cannot check it (crypt, MD5 `$apr1$`, SHA1 `{SHA}`). */
export function hashKind(hash: string): 'scrypt' | 'bcrypt' | undefined {
  if (SCRYPT.test(hash)) return 'scrypt';
  if (BCRYPT.test(hash)) return 'bcrypt';
  return undefined;
}

/** hashPassword returns a new scrypt hash of `password` with a random 16-byte salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p } = SCRYPT_PARAMETERS;
  const key = await scryptAsync(password, salt, 32, { N, r, p });
  return `$scrypt$N=${N},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/**
 * verifyPassword tells whether `password` matches `hash` (either kind). It resolves false for
 * a hash of unknown form, never rejects, and takes the same time whatever the mismatch.
 * scrypt runs on libuv's thread pool, so the event loop is not held.
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const scryptMatch = SCRYPT.exec(hash);
  if (scryptMatch !== null) {
    const [, n, r, p, salt, expected] = scryptMatch as unknown as [string, string, string, string, string, string];
    const wanted = Buffer.from(expected, 'base64');
    const N = Number(n);
    if (wanted.length === 0 || (N & (N - 1)) !== 0 || N < 2) return false;
    try {
      const key = await scryptAsync(password, Buffer.from(salt, 'base64'), wanted.length, {
        N,
        r: Number(r),
        p: Number(p),
        maxmem: 256 * N * Number(r) + 1024 * 1024,
      });
      return timingSafeEqual(key, wanted);
    } catch {
      return false;
    }
  }
  if (BCRYPT.test(hash)) {
    // bcryptjs understands $2y$ (PHP's and htpasswd's name for the fixed $2a$) as $2b$.
    try {
      // Loaded on the first bcrypt hash: most users files hold scrypt hashes, most hosts none.
      const { default: bcrypt } = await import('bcryptjs');
      return await bcrypt.compare(password, hash.startsWith('$2y$') ? '$2b$' + hash.slice(4) : hash);
    } catch {
      return false;
    }
  }
  return false;
}

function scryptAsync(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, length, options, (err, key) => (err ? reject(err) : resolve(key))));
}
