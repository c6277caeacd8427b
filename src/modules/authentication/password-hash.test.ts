import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { hashKind, hashPassword, verifyPassword } from './password-hash.js';
import { parseUsersFile } from './users-file.js';
import { parseBasicCredentials } from './basic-authentication.js';
import type { NodehostError } from '../../errors.js';

describe('password hashes', () => {
  test('hashPassword writes the $scrypt$ format with a fresh salt, and verifyPassword checks it', async () => {
    const hash = await hashPassword('s3cret');
    assert.match(hash, /^\$scrypt\$N=16384,r=8,p=1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    assert.notEqual(await hashPassword('s3cret'), hash, 'salted');
    assert.equal(await verifyPassword('s3cret', hash), true);
    assert.equal(await verifyPassword('s3cret ', hash), false);
    assert.equal(await verifyPassword('', hash), false);
  });

  test('bcrypt lines of every prefix htpasswd and libraries write', async () => {
    const hash = bcrypt.hashSync('pässword', 4);
    for (const prefix of ['$2a$', '$2b$', '$2y$']) {
      const line = prefix + hash.slice(4);
      assert.equal(hashKind(line), 'bcrypt');
      assert.equal(await verifyPassword('pässword', line), true, prefix);
      assert.equal(await verifyPassword('password', line), false, prefix);
    }
  });

  test('unknown or damaged hashes never verify', async () => {
    for (const hash of ['', 'plain', '$apr1$abc$def', '{SHA}abc=', '$scrypt$N=1000,r=8,p=1$c2FsdA==$a2V5', '$scrypt$N=16384,r=8,p=1$$', '$2y$10$short']) {
      assert.equal(await verifyPassword('x', hash), false, hash);
    }
    assert.equal(hashKind('$apr1$abc$def'), undefined);
  });

  test('a changed scrypt parameter changes the result', async () => {
    const hash = await hashPassword('pw');
    assert.equal(await verifyPassword('pw', hash.replace('N=16384', 'N=8192')), false);
  });
});

describe('users file', () => {
  test('name:hash[:roles], comments and blank lines; names without case; bad lines reported with file:line', async () => {
    const scrypt = await hashPassword('a');
    const bcryptHash = bcrypt.hashSync('b', 4);
    const errors: NodehostError[] = [];
    const users = parseUsersFile(`# comment\n\nAlice:${scrypt}\nbob:${bcryptHash}:Admins, staff\nbroken\neve:md5hash\n`, '/etc/users', errors);
    assert.deepEqual([...users.keys()], ['alice', 'bob']);
    assert.equal(users.get('alice')!.name, 'Alice');
    assert.deepEqual(users.get('bob')!.roles, ['admins', 'staff']);
    assert.deepEqual(
      errors.map((error) => `${error.code} ${error.where()}`),
      ['NH_ERR_USERS_FILE /etc/users:5', 'NH_ERR_USERS_FILE /etc/users:6'],
    );
  });

  test('Basic credentials: base64 of user:password in UTF-8, the password may hold colons', () => {
    assert.deepEqual(parseBasicCredentials('Basic ' + Buffer.from('zoë:a:b').toString('base64')), { user: 'zoë', password: 'a:b' });
    assert.deepEqual(parseBasicCredentials('basic ' + Buffer.from('u:').toString('base64')), { user: 'u', password: '' });
    assert.equal(parseBasicCredentials('Bearer x'), undefined);
    assert.equal(parseBasicCredentials('Basic ' + Buffer.from('nocolon').toString('base64')), undefined);
    assert.equal(parseBasicCredentials('Basic ' + Buffer.from(':pw').toString('base64')), undefined);
  });
});
