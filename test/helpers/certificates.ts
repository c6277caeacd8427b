/**
 * Test certificates made with the `openssl` command: a root CA, an intermediate CA, and leaf
 * certificates signed by the intermediate (their PEM files hold the leaf, then the
 * intermediate, as servers are given chains). Clients trust the root only.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** TestCa is a root and an intermediate in `dir`; `ca` is the root's PEM. */
export interface TestCa {
  readonly dir: string;
  readonly ca: Buffer;
  /** issue writes `<name>.pem` (leaf + intermediate) and `<name>.key` for the DNS names; files are replaced by rename. */
  issue(name: string, dnsNames: readonly string[], organization?: string): { certificate: string; key: string };
}

export function createTestCa(dir: string): TestCa {
  const caExt = 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n';
  writeFileSync(join(dir, 'ca.ext'), caExt);
  openssl(dir, [
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    'root.key',
    '-out',
    'root.pem',
    '-days',
    '3',
    '-subj',
    '/CN=nodehost test root',
    '-addext',
    'basicConstraints=critical,CA:true',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  openssl(dir, ['req', ...EC_KEY, '-keyout', 'intermediate.key', '-out', 'intermediate.csr', '-subj', '/CN=nodehost test intermediate']);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'intermediate.csr',
    '-CA',
    'root.pem',
    '-CAkey',
    'root.key',
    '-CAcreateserial',
    '-out',
    'intermediate.pem',
    '-days',
    '3',
    '-extfile',
    'ca.ext',
  ]);
  const intermediate = readFileSync(join(dir, 'intermediate.pem'));
  let serial = 0;
  return {
    dir,
    ca: readFileSync(join(dir, 'root.pem')),
    issue(name, dnsNames, organization = 'nodehost tests') {
      const step = `${name}-${++serial}`;
      writeFileSync(join(dir, `${step}.ext`), `subjectAltName=${dnsNames.map((dns) => `DNS:${dns}`).join(',')}\nextendedKeyUsage=serverAuth\n`);
      openssl(dir, ['req', ...EC_KEY, '-keyout', `${step}.key`, '-out', `${step}.csr`, '-subj', `/O=${organization}/CN=${dnsNames[0]}`]);
      openssl(dir, [
        'x509',
        '-req',
        '-in',
        `${step}.csr`,
        '-CA',
        'intermediate.pem',
        '-CAkey',
        'intermediate.key',
        '-CAcreateserial',
        '-out',
        `${step}.leaf`,
        '-days',
        '2',
        '-extfile',
        `${step}.ext`,
      ]);
      writeFileSync(join(dir, `${step}.chain`), Buffer.concat([readFileSync(join(dir, `${step}.leaf`)), intermediate]));
      const certificate = join(dir, `${name}.pem`);
      const key = join(dir, `${name}.key`);
      renameSync(join(dir, `${step}.key`), key);
      renameSync(join(dir, `${step}.chain`), certificate);
      return { certificate, key };
    },
  };
}
