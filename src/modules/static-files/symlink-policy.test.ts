import assert from 'node:assert/strict';
import { lchownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isLinkAllowed } from './symlink-policy.js';

/** Another owner than the test's (root): links are handed to it with lchown. */
const OTHER_UID = 4321;
const isRoot = process.getuid?.() === 0;

describe('isLinkAllowed: ownerMatch', { skip: isRoot ? false : 'lchown to another uid needs root' }, () => {
  const root = mkdtempSync(join(tmpdir(), 'nodehost-owner-'));
  const site = join(root, 'site');
  after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(site, 'sub'), { recursive: true });
  writeFileSync(join(root, 'outside.txt'), 'root owns this');
  writeFileSync(join(site, 'sub', 'file.txt'), 'root owns this too');
  // Same owner as their targets (both root's).
  symlinkSync(join(root, 'outside.txt'), join(site, 'same.txt'));
  symlinkSync(join(site, 'sub'), join(site, 'same-dir'));
  // Owned by another uid, pointing at root's files.
  symlinkSync(join(root, 'outside.txt'), join(site, 'other.txt'));
  lchownSync(join(site, 'other.txt'), OTHER_UID, OTHER_UID);
  symlinkSync(join(site, 'sub'), join(site, 'other-dir'));
  lchownSync(join(site, 'other-dir'), OTHER_UID, OTHER_UID);
  // Owned by another uid, pointing at a file that uid owns.
  writeFileSync(join(root, 'theirs.txt'), 'the other uid owns this');
  lchownSync(join(root, 'theirs.txt'), OTHER_UID, OTHER_UID);
  symlinkSync(join(root, 'theirs.txt'), join(site, 'theirs.txt'));
  lchownSync(join(site, 'theirs.txt'), OTHER_UID, OTHER_UID);
  symlinkSync(join(root, 'nothing.txt'), join(site, 'dangling.txt'));

  const allowed = (path: string) => isLinkAllowed(site, join(site, path), 'ownerMatch');

  test('a link with the owner of its target is followed, wherever the target is', async () => {
    assert.equal(await allowed('same.txt'), true);
    assert.equal(await allowed('same-dir/file.txt'), true);
    assert.equal(await allowed('theirs.txt'), true);
    assert.equal(await allowed('sub/file.txt'), true);
  });

  test('a link owned by another uid than its target is refused, as the last segment or one before it', async () => {
    assert.equal(await allowed('other.txt'), false);
    assert.equal(await allowed('other-dir/file.txt'), false);
    // The other policies judge by where the path leads, not by owner.
    assert.equal(await isLinkAllowed(site, join(site, 'other-dir/file.txt'), 'inside'), true);
  });

  test('missing files and dangling links are left to the stat that follows', async () => {
    assert.equal(await allowed('missing.txt'), true);
    assert.equal(await allowed('dangling.txt'), true);
  });
});
