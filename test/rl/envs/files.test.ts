/**
 * Where the model files come from (the data files' mechanism, src/data/resolve.ts, with MuJoCo's layout): the
 * mujocoDir option or ICNN_MUJOCO_DIR, dataDir / ICNN_DATA_DIR, the per-user cache, or a download (here from a local
 * HTTP server on 127.0.0.1) checked against the recorded size and sha256.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  mujocoDataSources,
  mujocoFileKey,
  readMujocoModelFile,
} from '../../../src/rl/envs/index.js';
import { DownloadError } from '../../../src/data/resolve.js';
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
  const url = `http://127.0.0.1:${port}`;
  return { url, requests, sources: mujocoDataSources((set, file) => `${url}/${set}/${file}`) };
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
  assert.equal(mujocoFileKey('v1', 'ant.xml'), 'mujoco/ant.xml');
  assert.equal(mujocoFileKey('gymnasium', 'ant.xml'), 'mujoco/gymnasium/ant.xml');
  const table = mujocoDataSources();
  assert.equal(Object.keys(table).length, Object.keys(MUJOCO_SOURCES.v1).length + Object.keys(MUJOCO_SOURCES.gymnasium).length);
  const hopper = table['mujoco/gymnasium/hopper.xml'];
  assert.deepEqual([hopper.url, hopper.sha256, hopper.bytes], [MUJOCO_SOURCES.gymnasium['hopper.xml'].url, MUJOCO_SOURCES.gymnasium['hopper.xml'].sha256, MUJOCO_SOURCES.gymnasium['hopper.xml'].bytes]);
});

test('download from a mirror into the cache (sha256 checked), then served from the cache', async (t) => {
  const server = await startServer(t);
  const cacheDir = tempDirFor(t);
  await withEnv({}, async () => {
    const { set, source } = modelSourceFor('swimmer.xml', 'v1');
    const first = await readMujocoModelFile(set, source, { cacheDir, sources: server.sources });
    assert.equal(first.origin, 'download');
    assert.deepEqual(server.requests, ['/gymnasium/swimmer.xml']);
    assert.equal(first.path, path.join(cacheDir, 'mujoco', 'gymnasium', 'swimmer.xml'));
    assert.equal(sha(first.path), source.sha256);
    const second = await readMujocoModelFile(set, source, { cacheDir, sources: server.sources });
    assert.equal(second.origin, 'cache');
    assert.equal(second.xml, first.xml);
    assert.equal(server.requests.length, 1, 'no second request');
    // A corrupted cache entry is refused naming the file (as every data file's); deleted, it is fetched again.
    writeFileSync(first.path, 'garbage');
    await assert.rejects(
      readMujocoModelFile(set, source, { cacheDir, sources: server.sources }),
      (e: unknown) => e instanceof IcnnError && e.message.startsWith(`${first.path}: sha256 `) && /\(7 bytes\) does not match the expected 25b0d46b.*verify: false/.test(e.message),
    );
    assert.equal(server.requests.length, 1, 'no request for a corrupted cache entry');
    rmSync(first.path);
    const third = await readMujocoModelFile(set, source, { cacheDir, sources: server.sources });
    assert.equal(third.origin, 'download');
    assert.equal(sha(third.path), source.sha256);
    // The whole path through makeEnv (ICNN_CACHE_DIR picks the cache).
    await withEnv({ ICNN_CACHE_DIR: cacheDir }, async () => {
      const env = await makeEnv('Reacher', { sources: server.sources });
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
      readMujocoModelFile(set, source, { cacheDir, sources: bad.sources }),
      (e: unknown) => e instanceof DownloadError && /^could not download mujoco\/reacher\.xml from http:\/\/127\.0\.0\.1:\d+\/v1\/reacher\.xml: (received \d+ bytes, expected 2360|the server announces \d+ bytes, more than the 2360 expected)/.test(e.message),
    );
    assert.equal(existsSync(path.join(cacheDir, 'mujoco', 'reacher.xml')), false);
    assert.deepEqual(readdirSync(cacheDir).flatMap((d) => readdirSync(path.join(cacheDir, d))), [], 'no partial file in the cache');
    // Same size, other bytes: the checksum refuses it.
    const sameSize = { ...bad.sources, [mujocoFileKey(set, source.file)]: { ...bad.sources[mujocoFileKey(set, source.file)], bytes: undefined } };
    await assert.rejects(
      readMujocoModelFile(set, source, { cacheDir, sources: sameSize }),
      (e: unknown) => e instanceof DownloadError && /reacher\.xml: checksum mismatch: sha256 [0-9a-f]{64}, expected c52c29cf/.test(e.message),
    );
    const missing = { ...source, file: 'nope.xml', url: `${bad.url}/v1/nope.xml` };
    await assert.rejects(readMujocoModelFile(set, missing, { cacheDir }), /HTTP 404/);
    await assert.rejects(
      readMujocoModelFile(set, source, { cacheDir, download: false }),
      (e: unknown) => e instanceof IcnnError && /^data file mujoco\/reacher\.xml was not found \(looked in: .*\) and downloading is disabled; put reacher\.xml in one of: .* or set ICNN_MUJOCO_DIR or ICNN_DATA_DIR$/.test(e.message),
    );
    // Nothing listens on port 9 of 127.0.0.1: a clear error, not a hang.
    const refused = mujocoDataSources((s, f) => `http://127.0.0.1:9/${s}/${f}`);
    await assert.rejects(readMujocoModelFile(set, source, { cacheDir, sources: refused, timeoutMs: 5000 }), /download .* failed/);
  });
});

test('local directories: mujocoDir, ICNN_MUJOCO_DIR, dataDir, ICNN_DATA_DIR/mujoco; missing and edited files', async (t) => {
  const { set, source } = modelSourceFor('half_cheetah.xml', 'v1');
  await withEnv({}, async () => {
    const viaOption = await readMujocoModelFile(set, source, { mujocoDir: MUJOCO_DIR, download: false });
    assert.equal(viaOption.origin, 'data-dir');
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
    await assert.rejects(readMujocoModelFile(ant.set, ant.source, { download: false, cacheDir: emptyCache }), /downloading is disabled/);
  });
  // dataDir: a data directory (the file under mujoco/) or the mujoco folder itself.
  await withEnv({}, async () => {
    const viaDataDir = await readMujocoModelFile(set, source, { dataDir, download: false, cacheDir: emptyCache });
    assert.equal(viaDataDir.path, path.join(dataDir, 'mujoco', 'half_cheetah.xml'));
    const flat = await readMujocoModelFile(set, source, { dataDir: MUJOCO_DIR, download: false, cacheDir: emptyCache });
    assert.equal(flat.path, path.join(MUJOCO_DIR, 'half_cheetah.xml'));
  });
  // A file found nowhere (downloads off) is an error naming every place looked in, the mujocoDir folder first.
  const empty = tempDirFor(t);
  await withEnv({}, async () => {
    await assert.rejects(
      readMujocoModelFile(set, source, { mujocoDir: empty, download: false, cacheDir: emptyCache }),
      (e: unknown) => e instanceof IcnnError && e.message.includes(`(looked in: ${path.join(empty, 'half_cheetah.xml')}, `) &&
        e.message.includes(path.join(emptyCache, 'mujoco', 'half_cheetah.xml')),
    );
    // An edited model is refused unless verify is false.
    const edited = readFileSync(path.join(MUJOCO_DIR, 'half_cheetah.xml'), 'utf8').replace('timestep="0.01"', 'timestep="0.005"');
    assert.notEqual(edited, readFileSync(path.join(MUJOCO_DIR, 'half_cheetah.xml'), 'utf8'));
    writeFileSync(path.join(empty, 'half_cheetah.xml'), edited);
    await assert.rejects(readMujocoModelFile(set, source, { mujocoDir: empty }), /half_cheetah\.xml: sha256 [0-9a-f]{64} \(\d+ bytes\) does not match the expected 224454ff.*verify: false/);
    const env = await makeEnv('HalfCheetah', { mujocoDir: empty, verify: false });
    assert.ok(env instanceof MujocoEnv);
    assert.ok(Math.abs(env.dt - 0.025) < 1e-12, `edited timestep: dt ${env.dt}`);
    env.close();
  });
});
