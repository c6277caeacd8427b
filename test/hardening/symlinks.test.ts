/**
 * Symbolic links inside the site (nodehost.yml `followSymlinks`): by default a link is served
 * only when its target is inside the site folder; `always` serves every link; `never` none;
 * `ownerMatch` a link with the owner of its target.
 */
import assert from 'node:assert/strict';
import { lchownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fetchStrict } from '../helpers/strict-http.js';
import { startHardeningHost, type HardeningHost } from './hardening-host.js';

/** withLinks adds, beside the site: an outside folder with a file; inside it: links to that file, to that folder, to /etc/passwd and to a file of the site. */
function withLinks(site: string): void {
  const outside = join(site, '..', 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'outside the site');
  writeFileSync(join(site, 'inside.txt'), 'inside the site');
  mkdirSync(join(site, 'sub'));
  symlinkSync(join(outside, 'secret.txt'), join(site, 'out-file.txt'));
  symlinkSync(outside, join(site, 'out-dir'));
  symlinkSync('/etc/passwd', join(site, 'passwd.txt'));
  symlinkSync('../inside.txt', join(site, 'sub', 'in-link.txt'));
}

/** Another owner than root's: the links of withForeignLinks are handed to it. */
const OTHER_UID = 4321;

/** withForeignLinks adds withLinks' links, and links owned by OTHER_UID: to root's outside file and folder, and to a file OTHER_UID owns. */
function withForeignLinks(site: string): void {
  withLinks(site);
  const outside = join(site, '..', 'outside');
  writeFileSync(join(outside, 'theirs.txt'), 'owned by the link owner');
  lchownSync(join(outside, 'theirs.txt'), OTHER_UID, OTHER_UID);
  for (const [target, link] of [
    [join(outside, 'secret.txt'), 'foreign-file.txt'],
    [outside, 'foreign-dir'],
    [join(outside, 'theirs.txt'), 'theirs.txt'],
  ] as const) {
    symlinkSync(target, join(site, link));
    lchownSync(join(site, link), OTHER_UID, OTHER_UID);
  }
}

async function statusOf(host: HardeningHost, target: string): Promise<number> {
  return (await fetchStrict(host.url, target)).status;
}

describe('followSymlinks', () => {
  test('default (inside): links leaving the site are not served, links within it are', async () => {
    const host = await startHardeningHost('', withLinks);
    try {
      assert.equal(await statusOf(host, '/out-file.txt'), 404);
      assert.equal(await statusOf(host, '/out-dir/secret.txt'), 404);
      assert.equal(await statusOf(host, '/passwd.txt'), 404);
      const inside = await fetchStrict(host.url, '/sub/in-link.txt');
      assert.equal(inside.status, 200);
      assert.equal(inside.text, 'inside the site');
      assert.equal(await statusOf(host, '/inside.txt'), 200);
    } finally {
      assert.equal(await host.close(), 0);
    }
  });

  test('never: no file reached through a link; always: every link', async () => {
    const never = await startHardeningHost('followSymlinks: never\n', withLinks);
    try {
      assert.equal(await statusOf(never, '/sub/in-link.txt'), 404);
      assert.equal(await statusOf(never, '/out-file.txt'), 404);
      assert.equal(await statusOf(never, '/inside.txt'), 200);
    } finally {
      assert.equal(await never.close(), 0);
    }
    const always = await startHardeningHost('followSymlinks: always\n', withLinks);
    try {
      assert.equal((await fetchStrict(always.url, '/out-dir/secret.txt')).text, 'outside the site');
      assert.equal(await statusOf(always, '/sub/in-link.txt'), 200);
    } finally {
      assert.equal(await always.close(), 0);
    }
  });

  test('ownerMatch: a link is followed only when it and its target have the same owner', {
    skip: process.getuid?.() === 0 ? false : 'lchown to another uid needs root',
  }, async () => {
    const host = await startHardeningHost('followSymlinks: ownerMatch\n', withForeignLinks);
    try {
      assert.equal(await statusOf(host, '/foreign-file.txt'), 404);
      assert.equal(await statusOf(host, '/foreign-dir/secret.txt'), 404);
      assert.equal((await fetchStrict(host.url, '/theirs.txt')).text, 'owned by the link owner');
      // Root's links to root's files, inside the site or not, are followed.
      assert.equal((await fetchStrict(host.url, '/out-dir/secret.txt')).text, 'outside the site');
      assert.equal(await statusOf(host, '/sub/in-link.txt'), 200);
      assert.equal(await statusOf(host, '/inside.txt'), 200);
    } finally {
      assert.equal(await host.close(), 0);
    }
  });
});
