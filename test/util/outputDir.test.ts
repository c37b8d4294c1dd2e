/** The output probe (src/util/outputDir.ts): creates the directory, refuses files, pseudo file systems, in bounded time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { probeOutputDir, probeOutputFile } from '../../src/util/outputDir.js';
import { tempDirFor } from '../helpers/tmp.js';

test('creates a missing directory and leaves no probe file behind', async (t) => {
  const dir = tempDirFor(t);
  const out = path.join(dir, 'a', 'b');
  assert.equal(await probeOutputDir('--out', out), out);
  assert.deepEqual(readdirSync(out), []);
});

test('a path below a regular file, a file in place of a directory, a directory in place of a file', async (t) => {
  const dir = tempDirFor(t);
  writeFileSync(path.join(dir, 'f'), 'x');
  await assert.rejects(probeOutputDir('--out', path.join(dir, 'f', 'x')), /--out .*f\/x: cannot write there \(a part of the path is a file, not a directory\); choose another --out/);
  await assert.rejects(probeOutputDir('--out', path.join(dir, 'f')), /cannot write there \(a part of the path is a file|it is a file/);
  await assert.rejects(probeOutputFile('--out', dir), /cannot write there \(it is a directory, not a file\)/);
  assert.equal(await probeOutputFile('--out', path.join(dir, 'new', 'y.csv')), path.join(dir, 'new', 'y.csv'));
});

test('pseudo file systems are refused at once, without touching them', { skip: process.platform !== 'linux' }, async () => {
  for (const p of ['/proc/icnn-x/y', '/proc/self/x', '/sys/icnn', '/dev/icnn']) {
    await assert.rejects(probeOutputDir('--out', p), new RegExp(`--out ${p}: cannot write there \\(/(proc|sys|dev) is a kernel pseudo file system`));
    assert.ok(!existsSync(p));
  }
});
