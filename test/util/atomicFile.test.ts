/** writeFileAtomic: all-or-nothing replacement; removeStaleTempFiles: cleanup after killed writers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { removeStaleTempFiles, tempNameFor, writeFileAtomic } from '../../src/util/atomicFile.js';
import { tempDirFor } from '../helpers/tmp.js';

test('writes a new file, creating missing directories, and leaves no temporary files', async (t) => {
  const dir = tempDirFor(t);
  const target = path.join(dir, 'a', 'b', 'file.txt');
  await writeFileAtomic(target, 'hello');
  assert.equal(readFileSync(target, 'utf8'), 'hello');
  assert.deepEqual(readdirSync(path.dirname(target)), ['file.txt']);
});

test('replaces an existing file with binary content', async (t) => {
  const dir = tempDirFor(t);
  const target = path.join(dir, 'w.bin');
  writeFileSync(target, 'old content that is longer than the new one');
  const bytes = new Uint8Array([0, 255, 1, 254, 2]);
  await writeFileAtomic(target, bytes);
  assert.deepEqual(new Uint8Array(readFileSync(target)), bytes);
  assert.deepEqual(readdirSync(dir), ['w.bin']);
});

test('a failed write leaves the previous file and no temporary file', async (t) => {
  const dir = tempDirFor(t);
  // The target is a non-empty directory: the rename fails after the temporary file was written.
  const target = path.join(dir, 'occupied');
  mkdirSync(target);
  writeFileSync(path.join(target, 'keep'), 'x');
  await assert.rejects(writeFileAtomic(target, 'data'));
  assert.deepEqual(readdirSync(dir), ['occupied']);
  assert.equal(readFileSync(path.join(target, 'keep'), 'utf8'), 'x');
});

test('concurrent writers: the file always holds one complete version', async (t) => {
  const dir = tempDirFor(t);
  const target = path.join(dir, 'f.txt');
  const versions = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(2, '0')}:${'x'.repeat(100_000)}`);
  await writeFileAtomic(target, versions[0]);
  let reads = 0;
  let writing = true;
  const reader = (async () => {
    while (writing) {
      const s = readFileSync(target, 'utf8');
      assert.ok(versions.includes(s), `read a partial file of ${s.length} characters`);
      reads++;
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  await Promise.all(versions.map((v) => writeFileAtomic(target, v)));
  writing = false;
  await reader;
  assert.ok(reads > 0);
  assert.ok(versions.includes(readFileSync(target, 'utf8')));
  assert.deepEqual(readdirSync(dir), ['f.txt']);
});

test('a writer killed mid-write leaves the previous file intact', { timeout: 3 * 60_000 }, async (t) => {
  const dir = tempDirFor(t);
  const target = path.join(dir, 'big.bin');
  const ROOT = path.resolve(import.meta.dirname, '../..');
  writeFileSync(target, 'previous');
  // A child that rewrites the file with 64 MiB forever; killed while it writes.
  const code = `
    const { writeFileAtomic } = await import(${JSON.stringify(path.join(ROOT, 'src/util/atomicFile.ts'))});
    const data = new Uint8Array(64 * 1024 * 1024).fill(7);
    process.stdout.write('ready\\n');
    for (;;) await writeFileAtomic(${JSON.stringify(target)}, data);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`child exited early (${c})`)));
  });
  await new Promise((resolve) => setTimeout(resolve, 30));
  const closed = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGKILL');
  await closed;
  const content = readFileSync(target);
  const complete = content.toString() === 'previous' || (content.length === 64 * 1024 * 1024 && content.every((b) => b === 7));
  assert.ok(complete, `the file is partial: ${content.length} bytes`);
  // Whatever temporary file the dead writer left is stale now.
  const leftovers = readdirSync(dir).filter((f) => f.endsWith('.tmp'));
  const removed = await removeStaleTempFiles(dir);
  assert.deepEqual(removed.sort(), leftovers.sort());
  assert.deepEqual(readdirSync(dir), ['big.bin']);
});

test('removeStaleTempFiles keeps files of live processes and unrelated files', async (t) => {
  const dir = tempDirFor(t);
  const dead = spawnSync(process.execPath, ['-e', '']).pid as number;
  const mine = path.basename(tempNameFor(path.join(dir, 'model.json')));
  assert.match(mine, new RegExp(`^\\.model\\.json\\.${process.pid}\\.[0-9a-f]{8}\\.tmp$`));
  const stale = `.model.json.${dead}.00ff00ff.tmp`;
  const files = [mine, stale, 'model.json', '.hidden', 'x.tmp', `.a.${dead}.nothex!.tmp`];
  for (const f of files) writeFileSync(path.join(dir, f), '');
  assert.deepEqual(await removeStaleTempFiles(dir), [stale]);
  assert.deepEqual(readdirSync(dir).sort(), files.filter((f) => f !== stale).sort());
});
