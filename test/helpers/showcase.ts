/**
 * The showcase for tests: a private copy of examples/ (the site writes its deployment file,
 * logs, access logs and certificate into it), with the repository's node_modules linked beside it
 * so that its apps find express and socket.io as they do in the repository, and the showcase's
 * three ports (8080, 8443, 9180, in nodehost.yml and on the landing page) replaced by free ones.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './nodehost.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const NODE_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));
/** The ports examples/showcase-host/nodehost.yml binds, as `npm start` serves them. */
const SHOWCASE_PORTS = { http: 8080, https: 8443, admin: 9180 } as const;

/** ShowcasePorts are the copy's ports: the site's http and https bindings and the admin listener. */
export type ShowcasePorts = { readonly [name in keyof typeof SHOWCASE_PORTS]: number };

/** ShowcaseCopy is a copied examples/ folder; `config` is its showcase-host/nodehost.yml. */
export interface ShowcaseCopy {
  readonly dir: string;
  readonly config: string;
  readonly site: string;
  readonly ports: ShowcasePorts;
  /** The site's self-signed certificate file (made when the host starts). */
  readonly certificate: string;
  remove(): void;
}

/** copyShowcase copies examples/ into a new temporary folder (without logs, deployments or certificates left in the original). */
export async function copyShowcase(): Promise<ShowcaseCopy> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-showcase-'));
  // What running the showcase writes: access logs, worker log folders, the deploy demo's file, the certificate.
  const written = [path.join(EXAMPLES, 'logs'), path.join(EXAMPLES, 'showcase', 'deploy', 'deployed.txt'), path.join(EXAMPLES, 'showcase-host', 'self-signed')];
  const examples = path.join(dir, 'examples');
  fs.cpSync(EXAMPLES, examples, {
    recursive: true,
    filter: (source) => !written.includes(path.resolve(source)) && path.basename(source) !== 'iisnode',
  });
  fs.symlinkSync(NODE_MODULES, path.join(dir, 'node_modules'));
  const ports: ShowcasePorts = { http: await freePort(), https: await freePort(), admin: await freePort() };
  for (const file of [path.join(examples, 'showcase-host', 'nodehost.yml'), path.join(examples, 'showcase', 'index.html')]) {
    let text = fs.readFileSync(file, 'utf8');
    for (const name of Object.keys(SHOWCASE_PORTS) as (keyof ShowcasePorts)[]) text = text.replaceAll(String(SHOWCASE_PORTS[name]), String(ports[name]));
    fs.writeFileSync(file, text);
  }
  return {
    dir,
    config: path.join(examples, 'showcase-host', 'nodehost.yml'),
    site: path.join(examples, 'showcase'),
    ports,
    certificate: path.join(examples, 'showcase-host', 'self-signed', 'showcase.pem'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
