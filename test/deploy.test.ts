// The Dockerfile and the Kubernetes manifests, checked without a container engine: their
// instructions and objects are parsed, the nodehost.yml they carry is loaded by nodehost's own
// reader, and the probe command they run is run against a real nodehost with that admin listener.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { loadHostConfig } from '../src/config/host-config.js';
import { SETTINGS_BY_NAME } from '../src/config/schema.js';
import { SITES, startNodehost } from './helpers/nodehost.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'nodehost-deploy-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** The Dockerfile's instructions: comments dropped, `\` continuations joined. */
function dockerfile(): Instruction[] {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const space = line.indexOf(' ');
      return { keyword: line.slice(0, space).toUpperCase(), args: line.slice(space + 1).trim() };
    });
}

/** The argument list of an exec-form instruction (`["a", "b"]`). */
function execForm(args: string): string[] {
  return JSON.parse(args.slice(args.indexOf('['))) as string[];
}

/** Loads a nodehost.yml text with nodehost's reader (it throws on any bad key or value). */
function hostConfig(text: string, name: string) {
  const file = join(work, name);
  writeFileSync(file, text);
  return loadHostConfig(file);
}

/** A free loopback port, so the probe runs against this test's nodehost and no other. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((done) => server.once('listening', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** Runs a probe command (node -e ...) with the admin port replaced; resolves with its exit code. */
async function probe(command: string[], port: number): Promise<number> {
  const [program, ...args] = command.map((word) => word.replace('127.0.0.1:9180', `127.0.0.1:${port}`));
  assert.equal(program, 'node');
  const result = await run(process.execPath, args).then(
    () => 0,
    (err: { code: number }) => err.code,
  );
  return result;
}

/** The parts of the Kubernetes objects the test reads. */
interface Probe {
  readonly exec: { readonly command: string[] };
}
interface Container {
  readonly args: string[];
  readonly ports: { readonly containerPort: number }[];
  readonly volumeMounts: { readonly name: string; readonly mountPath: string }[];
  readonly readinessProbe: Probe;
  readonly livenessProbe: Probe;
  readonly lifecycle: { readonly preStop: Probe };
}
interface PodSpec {
  readonly terminationGracePeriodSeconds: number;
  readonly securityContext: { readonly runAsNonRoot: boolean };
  readonly containers: Container[];
  readonly volumes: { readonly name: string; readonly configMap?: { name: string }; readonly persistentVolumeClaim?: { claimName: string } }[];
}
interface KubernetesObject {
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec?: { readonly template?: { readonly spec: PodSpec }; readonly accessModes?: string[] };
  readonly data?: Record<string, string>;
}

const instructions = dockerfile();
const runStage = instructions.slice(instructions.map((step) => step.keyword).lastIndexOf('FROM'));

describe('Dockerfile', () => {
  test('builds in one stage and runs the packed package in another, as a non-root user', () => {
    const stages = instructions.filter((step) => step.keyword === 'FROM');
    assert.equal(stages.length, 2);
    assert.match(stages[0]!.args, /^node:20\S* AS build$/);
    assert.ok(runStage.some((step) => step.keyword === 'COPY' && step.args.startsWith('--from=build ')));
    assert.ok(runStage.some((step) => step.keyword === 'RUN' && /npm install -g .*nodehost\.tgz/.test(step.args)));
    const user = runStage.filter((step) => step.keyword === 'USER').at(-1);
    assert.ok(user !== undefined && user.args !== 'root' && user.args !== '0', 'the image runs as a non-root user');
    // Every file the build copies from the repository exists.
    for (const step of instructions.filter((step) => step.keyword === 'COPY' && !step.args.startsWith('--from'))) {
      for (const source of step.args.split(/\s+/).slice(0, -1)) assert.ok(existsSync(join(ROOT, source)), `${source} exists`);
    }
  });

  test('serves the site volume with the nodehost.yml it copies, stops on SIGTERM, and checks /ready', () => {
    const copy = runStage.find((step) => step.keyword === 'COPY' && step.args.endsWith('/etc/nodehost/nodehost.yml'));
    assert.ok(copy, 'the image carries a nodehost.yml');
    const config = hostConfig(readFileSync(join(ROOT, copy.args.split(/\s+/)[0]!), 'utf8'), 'docker.yml');
    assert.deepEqual(execForm(runStage.find((step) => step.keyword === 'CMD')!.args), ['serve', '--config', '/etc/nodehost/nodehost.yml']);
    assert.deepEqual(execForm(runStage.find((step) => step.keyword === 'ENTRYPOINT')!.args), ['nodehost']);
    assert.deepEqual(execForm(runStage.find((step) => step.keyword === 'VOLUME')!.args), [config.root]);
    assert.equal(config.host, '0.0.0.0');
    assert.ok(runStage.some((step) => step.keyword === 'EXPOSE' && step.args === String(config.port)));
    assert.equal(runStage.find((step) => step.keyword === 'STOPSIGNAL')?.args, 'SIGTERM');
    const health = runStage.find((step) => step.keyword === 'HEALTHCHECK')!;
    assert.match(health.args, new RegExp(`http://127\\.0\\.0\\.1:${config.admin!.listen!.port}/ready`));
    assert.equal(config.admin?.listen?.host, '127.0.0.1');
  });
});

describe('Kubernetes manifests', () => {
  const objects = ['configmap.yaml', 'deployment.yaml', 'site-volume.yaml'].flatMap((name) =>
    parseAllDocuments(readFileSync(join(ROOT, 'deploy', 'kubernetes', name), 'utf8')).map((doc) => {
      assert.deepEqual(doc.errors, [], `${name} is valid YAML`);
      return doc.toJS() as KubernetesObject;
    }),
  );
  const find = (kind: string, name: string) => objects.find((object) => object.kind === kind && object.metadata.name === name);
  const deployment = find('Deployment', 'nodehost');
  const pod = deployment!.spec!.template!.spec;
  const container = pod.containers[0]!;

  test('the ConfigMap holds a nodehost.yml that nodehost accepts, mounted where the container reads it', () => {
    const configMap = find('ConfigMap', 'nodehost-config')!;
    const config = hostConfig(configMap.data!['nodehost.yml']!, 'k8s.yml');
    const volume = pod.volumes.find((entry) => entry.configMap?.name === 'nodehost-config')!;
    const mount = container.volumeMounts.find((entry) => entry.name === volume.name)!;
    assert.deepEqual(container.args, ['serve', '--config', `${mount.mountPath}/nodehost.yml`]);
    // The site volume is the configured root, and the claim it uses exists.
    const site = container.volumeMounts.find((entry) => entry.mountPath === config.root)!;
    const claim = pod.volumes.find((entry) => entry.name === site.name)!.persistentVolumeClaim!.claimName;
    assert.deepEqual(find('PersistentVolumeClaim', claim)?.spec?.accessModes, ['ReadWriteMany']);
    assert.equal(container.ports[0]!.containerPort, config.port);
    assert.equal(pod.securityContext.runAsNonRoot, true);
  });

  test('the grace period outlasts preStop plus the drain (gracefulShutdownTimeout)', () => {
    const preStop = container.lifecycle.preStop.exec.command;
    assert.equal(preStop[0], 'sleep');
    const drainMs = Number(SETTINGS_BY_NAME.get('gracefulShutdownTimeout')!.default);
    assert.ok(pod.terminationGracePeriodSeconds * 1000 > Number(preStop[1]) * 1000 + drainMs);
  });

  test('the readiness and liveness probes answer as /ready and /live do on a real nodehost', async () => {
    const ready = container.readinessProbe.exec.command;
    const live = container.livenessProbe.exec.command;
    assert.match(ready.join(' '), /127\.0\.0\.1:9180\/ready/);
    assert.match(live.join(' '), /127\.0\.0\.1:9180\/live/);
    const port = await freePort();
    assert.equal(await probe(ready, port), 1, 'nothing listens yet: not ready');
    writeFileSync(join(work, 'probe.yml'), `root: ${join(SITES, 'script-app', 'public')}\nadmin:\n  listen: 127.0.0.1:${port}\n`);
    const host = await startNodehost('', { args: ['--config', join(work, 'probe.yml')], waitFor: /admin listener/ });
    try {
      assert.equal(await probe(ready, port), 0);
      assert.equal(await probe(live, port), 0);
    } finally {
      assert.equal(await host.stop(), 0);
    }
  });
});
