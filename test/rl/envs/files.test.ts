/**
 * Where the model files come from: an explicit directory, ICNN_MUJOCO_DIR / ICNN_DATA_DIR, the per-user cache,
 * or a download (here from a local HTTP server on 127.0.0.1) checked against the recorded sha256.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  makeEnv,
  MUJOCO_SOURCE_COMMITS,
  MUJOCO_SOURCES,
  MUJOCO_TASKS,
  MujocoEnv,
  modelSourceFor,
  readMujocoModelFile,
} from '../../../src/rl/envs/index.js';
import { IcnnError } from '../../../src/util/errors.js';
import { tempDirFor } from '../../helpers/tmp.js';
import { MUJOCO_DIR } from './helpers.js';

const ENV_VARS = ['ICNN_MUJOCO_DIR', 'ICNN_DATA_DIR', 'ICNN_CACHE_DIR'] as const;

/** Run with the lookup environment variables replaced (restored afterwards). */
async function withEnv<T>(vars: Partial<Record<(typeof ENV_VARS)[number], string>>, fn: () => Promise<T>): Promise<T> {
  const saved = ENV_VARS.map((k) => [k, process.env[k]] as const);
  for (const k of ENV_VARS) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** A file server on 127.0.0.1: /<set>/<file> from MUJOCO_DIR (v1 at the top, gymnasium/ below), optionally tampered. */
async function startServer(t: { after: (fn: () => Promise<void> | void) => void }, tamper = false) {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const m = /^\/(v1|gymnasium)\/([a-z0-9_]+\.xml)$/.exec(req.url ?? '');
    const file = m ? path.join(MUJOCO_DIR, m[1] === 'v1' ? '' : 'gymnasium', m[2]) : '';
    if (!m || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    let body = readFileSync(file);
    if (tamper) body = Buffer.concat([body, Buffer.from('<!-- tampered -->')]);
    res.writeHead(200, { 'content-type': 'application/xml', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests };
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

test('the source table: pinned commits, a v1 and a Gymnasium entry for every task, digests of the shared files', () => {
  assert.match(MUJOCO_SOURCE_COMMITS.v1.baseUrl, /^https:\/\/raw\.githubusercontent\.com\/openai\/gym\/0c91364cd4a7ea70f242a28b85c3aea2d74aa35a\//);
  assert.match(MUJOCO_SOURCE_COMMITS.gymnasium.baseUrl, /\/Farama-Foundation\/Gymnasium\/3f0476a8cc224dcce2167cc4b6971ae0f04d5cfc\//);
  for (const task of Object.values(MUJOCO_TASKS)) {
    for (const set of ['v1', 'gymnasium'] as const) {
      const src = MUJOCO_SOURCES[set][task.file];
      assert.ok(src, `${set}/${task.file}`);
      assert.equal(src.url, MUJOCO_SOURCE_COMMITS[set].baseUrl + task.file);
      const local = path.join(MUJOCO_DIR, set === 'v1' ? '' : 'gymnasium', task.file);
      assert.equal(sha(local), src.sha256, local);
      assert.equal(readFileSync(local).length, src.bytes);
    }
  }
  assert.equal(modelSourceFor('hopper.xml', 'v1').set, 'gymnasium');
  assert.equal(modelSourceFor('ant.xml', 'v1').set, 'v1');
  assert.equal(modelSourceFor('ant.xml', 'gymnasium').set, 'gymnasium');
});

test('download from a mirror into the cache (sha256 checked), then served from the cache', async (t) => {
  const server = await startServer(t);
  const cacheDir = tempDirFor(t);
  await withEnv({}, async () => {
    const { set, source } = modelSourceFor('swimmer.xml', 'v1');
    const first = await readMujocoModelFile(set, source, { cacheDir, mirrorUrl: server.url });
    assert.equal(first.origin, 'download');
    assert.deepEqual(server.requests, ['/gymnasium/swimmer.xml']);
    assert.equal(first.path, path.join(cacheDir, 'gymnasium', 'swimmer.xml'));
    assert.equal(sha(first.path), source.sha256);
    const second = await readMujocoModelFile(set, source, { cacheDir, mirrorUrl: server.url });
    assert.equal(second.origin, 'cache');
    assert.equal(second.xml, first.xml);
    assert.equal(server.requests.length, 1, 'no second request');
    // A corrupted cache entry is fetched again.
    writeFileSync(first.path, 'garbage');
    const third = await readMujocoModelFile(set, source, { cacheDir, mirrorUrl: server.url });
    assert.equal(third.origin, 'download');
    assert.equal(sha(third.path), source.sha256);
    // The whole path through makeEnv (ICNN_CACHE_DIR picks the cache).
    await withEnv({ ICNN_CACHE_DIR: cacheDir }, async () => {
      const env = await makeEnv('Reacher', { mirrorUrl: server.url });
      assert.ok(env instanceof MujocoEnv);
      assert.equal(env.modelPath, path.join(cacheDir, 'mujoco', 'reacher.xml'));
      assert.equal(env.reset(0).length, 11);
      env.close();
    });
    assert.ok(server.requests.includes('/v1/reacher.xml'));
  });
});

test('a tampered or missing download is refused and nothing is cached', async (t) => {
  const bad = await startServer(t, true);
  const cacheDir = tempDirFor(t);
  await withEnv({}, async () => {
    const { set, source } = modelSourceFor('reacher.xml', 'v1');
    await assert.rejects(
      readMujocoModelFile(set, source, { cacheDir, mirrorUrl: bad.url }),
      (e: unknown) => e instanceof IcnnError && /download .*reacher\.xml: sha256 [0-9a-f]{64} .* does not match the expected c52c29cf/.test(e.message),
    );
    assert.equal(existsSync(path.join(cacheDir, 'reacher.xml')), false);
    const missing = { ...source, file: 'nope.xml' };
    await assert.rejects(readMujocoModelFile(set, missing, { cacheDir, mirrorUrl: bad.url }), /HTTP 404/);
    await assert.rejects(
      readMujocoModelFile(set, source, { cacheDir, download: false }),
      (e: unknown) => e instanceof IcnnError && /not available: pass mujocoDir.*ICNN_MUJOCO_DIR/.test(e.message),
    );
    // Nothing listens on port 9 of 127.0.0.1: a clear error, not a hang.
    await assert.rejects(readMujocoModelFile(set, source, { cacheDir, mirrorUrl: 'http://127.0.0.1:9', downloadTimeoutMs: 5000 }), /download .* failed/);
  });
});

test('explicit directories: the option, ICNN_MUJOCO_DIR, ICNN_DATA_DIR/mujoco; missing and edited files', async (t) => {
  const { set, source } = modelSourceFor('half_cheetah.xml', 'v1');
  await withEnv({}, async () => {
    const viaOption = await readMujocoModelFile(set, source, { mujocoDir: MUJOCO_DIR, download: false });
    assert.equal(viaOption.origin, 'dir');
    assert.equal(viaOption.path, path.join(MUJOCO_DIR, 'half_cheetah.xml'));
  });
  await withEnv({ ICNN_MUJOCO_DIR: MUJOCO_DIR }, async () => {
    const viaEnv = await readMujocoModelFile(set, source, { download: false });
    assert.equal(viaEnv.path, path.join(MUJOCO_DIR, 'half_cheetah.xml'));
  });
  const dataDir = tempDirFor(t);
  mkdirSync(path.join(dataDir, 'mujoco'));
  copyFileSync(path.join(MUJOCO_DIR, 'half_cheetah.xml'), path.join(dataDir, 'mujoco', 'half_cheetah.xml'));
  const emptyCache = tempDirFor(t);
  await withEnv({ ICNN_DATA_DIR: dataDir }, async () => {
    const viaData = await readMujocoModelFile(set, source, { download: false, cacheDir: emptyCache });
    assert.equal(viaData.origin, 'data-dir');
    // ICNN_DATA_DIR/mujoco without the file falls through to the cache (here: empty, downloads off).
    const ant = modelSourceFor('ant.xml', 'v1');
    await assert.rejects(readMujocoModelFile(ant.set, ant.source, { download: false, cacheDir: emptyCache }), /not available/);
  });
  // An explicit directory is authoritative: a missing file is an error naming the directory.
  const empty = tempDirFor(t);
  await withEnv({}, async () => {
    await assert.rejects(
      readMujocoModelFile(set, source, { mujocoDir: empty }),
      (e: unknown) => e instanceof IcnnError && e.message.includes(`not found in ${empty}`) && e.message.includes('mujocoDir'),
    );
    // An edited model is refused unless checkSha256 is false.
    const edited = readFileSync(path.join(MUJOCO_DIR, 'half_cheetah.xml'), 'utf8').replace('timestep="0.01"', 'timestep="0.005"');
    assert.notEqual(edited, readFileSync(path.join(MUJOCO_DIR, 'half_cheetah.xml'), 'utf8'));
    writeFileSync(path.join(empty, 'half_cheetah.xml'), edited);
    await assert.rejects(readMujocoModelFile(set, source, { mujocoDir: empty }), /does not match the expected 224454ff.*checkSha256: false/);
    const env = await makeEnv('HalfCheetah', { mujocoDir: empty, checkSha256: false });
    assert.ok(env instanceof MujocoEnv);
    assert.ok(Math.abs(env.dt - 0.025) < 1e-12, `edited timestep: dt ${env.dt}`);
    env.close();
  });
});
