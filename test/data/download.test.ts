/**
 * Source resolution and downloads, against a local HTTP server on 127.0.0.1 only: success (with progress and a
 * cache hit afterwards), redirects, checksum mismatch, 404, connection refused, truncated and stalled responses;
 * no partial file is ever left in the cache. Then the BibTeX and Olivetti loaders end to end over the server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  DATA_SOURCES,
  DownloadError,
  dataSearchDirs,
  defaultCacheDir,
  loadBibtex,
  loadOlivetti,
  resolveDataFile,
  type DataSources,
  type DownloadProgress,
} from '../../src/data/index.js';
import { BIBTEX_LABELS_FILE, BIBTEX_TEST_FILE, BIBTEX_TRAIN_FILE, OLIVETTI_MAT_FILE } from '../../src/data/sources.js';
import { IcnnError } from '../../src/util/errors.js';
import { tempDirFor } from '../helpers/tmp.js';
import { MI, MX, compressed, matFile, matrix, withEnv } from './helpers.js';

const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

const BODY = randomBytes(300_000);
const OTHER = Buffer.from(BODY.map((b) => b ^ 1));
const hits = new Map<string, number>();
const served = new Map<string, Uint8Array>();
let server: http.Server;
let base = '';

before(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    hits.set(url, (hits.get(url) ?? 0) + 1);
    if (url === '/ok' || url === '/other') {
      const body = url === '/ok' ? BODY : OTHER;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      // Several writes, so that progress is reported more than once.
      for (let o = 0; o < body.length; o += 64 * 1024) res.write(body.subarray(o, o + 64 * 1024));
      res.end();
    } else if (url === '/chunked') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(BODY);
    } else if (url === '/endless') {
      // No Content-Length, and more bytes than the sources table says: the download must stop at the cap.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const pump = (): void => {
        if (res.destroyed || res.writableEnded) return;
        if (res.write(BODY)) setImmediate(pump);
        else res.once('drain', pump);
      };
      res.on('close', () => res.destroy());
      pump();
    } else if (url === '/too-big') {
      res.writeHead(200, { 'content-length': BODY.length * 1000 });
      res.write(BODY.subarray(0, 1000));
    } else if (url === '/redirect') {
      res.writeHead(302, { location: '/redirect2' });
      res.end();
    } else if (url === '/redirect2') {
      res.writeHead(301, { location: `${base}/ok` });
      res.end();
    } else if (url === '/truncated') {
      res.writeHead(200, { 'content-length': BODY.length });
      res.write(BODY.subarray(0, 100_000), () => setTimeout(() => res.socket?.destroy(), 20));
    } else if (url === '/stall') {
      res.writeHead(200, { 'content-length': BODY.length });
      res.write(BODY.subarray(0, 1000));
    } else if (served.has(url)) {
      res.writeHead(200, { 'content-length': (served.get(url) as Uint8Array).length });
      res.end(served.get(url));
    } else {
      res.writeHead(404, 'Not Found');
      res.end('no such file');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

const FILE = 'toy/data.bin';
const sourcesFor = (route: string, extra: Partial<DataSources[string]> = {}): DataSources => ({
  [FILE]: { url: `${base}${route}`, sha256: sha256(BODY), bytes: BODY.length, description: 'test file', ...extra },
});

/** Files in the cache's dataset folder (there must be no temporary or partial files). */
const cacheFiles = (cacheDir: string): string[] => (existsSync(path.join(cacheDir, 'toy')) ? readdirSync(path.join(cacheDir, 'toy')) : []);

/** Resolve with ICNN_DATA_DIR unset, so that only the given places count. */
const resolveIsolated = (file: string, options: Parameters<typeof resolveDataFile>[1]): Promise<string> =>
  withEnv({ ICNN_DATA_DIR: undefined }, () => resolveDataFile(file, options));

async function expectDownloadError(p: Promise<unknown>, pattern: RegExp): Promise<string> {
  let message = '';
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof DownloadError && e instanceof IcnnError, `expected a DownloadError, got ${e}`);
    assert.match(e.message, pattern);
    message = e.message;
    return true;
  });
  return message;
}

test('downloads into the cache with progress, then serves the cached file without contacting the server', async (t) => {
  const cacheDir = tempDirFor(t);
  const events: DownloadProgress[] = [];
  const p = await resolveIsolated(FILE, { cacheDir, sources: sourcesFor('/ok'), onProgress: (e) => events.push({ ...e }) });
  assert.equal(p, path.join(cacheDir, 'toy', 'data.bin'));
  assert.deepEqual(readFileSync(p), BODY);
  assert.deepEqual(cacheFiles(cacheDir), ['data.bin']);
  assert.ok(events.length >= 3, `${events.length} progress events`);
  assert.equal(events[0].receivedBytes, 0);
  assert.equal(events.at(-1)?.receivedBytes, BODY.length);
  assert.ok(events.every((e, i) => e.totalBytes === BODY.length && e.file === FILE && (i === 0 || e.receivedBytes >= events[i - 1].receivedBytes)));
  const before = hits.get('/ok');
  assert.equal(await resolveIsolated(FILE, { cacheDir, sources: sourcesFor('/ok') }), p);
  assert.equal(hits.get('/ok'), before);
});

test('follows redirects (302 then 301 with an absolute URL) and accepts a response without Content-Length', async (t) => {
  const cacheDir = tempDirFor(t);
  const p = await resolveIsolated(FILE, { cacheDir, sources: sourcesFor('/redirect') });
  assert.deepEqual(readFileSync(p), BODY);
  const cache2 = tempDirFor(t);
  const events: DownloadProgress[] = [];
  const q = await resolveIsolated(FILE, { cacheDir: cache2, sources: sourcesFor('/chunked'), onProgress: (e) => events.push(e) });
  assert.deepEqual(readFileSync(q), BODY);
  // Without Content-Length the size from the sources table is reported.
  assert.equal(events[0].totalBytes, BODY.length);
});

test('checksum mismatch: the download is rejected and removed', async (t) => {
  const cacheDir = tempDirFor(t);
  const msg = await expectDownloadError(
    resolveIsolated(FILE, { cacheDir, sources: sourcesFor('/other') }),
    /^could not download toy\/data\.bin from http:\/\/127\.0\.0\.1:\d+\/other: checksum mismatch: sha256 [0-9a-f]{64}, expected [0-9a-f]{64}; the file was discarded/,
  );
  assert.match(msg, new RegExp(`put data\\.bin in one of: .*${path.join(cacheDir, 'toy').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} or set ICNN_DATA_DIR`));
  assert.deepEqual(cacheFiles(cacheDir), []);
  // A wrong size is refused as well (here the table expects one byte more than served).
  await expectDownloadError(resolveIsolated(FILE, { cacheDir, sources: sourcesFor('/ok', { bytes: BODY.length + 1 }) }), /received 300000 bytes, expected 300001/);
  assert.deepEqual(cacheFiles(cacheDir), []);
});

test('HTTP 404: a clear message naming the file, the URL, the status and where to put the file', async (t) => {
  const cacheDir = tempDirFor(t);
  const dataDir = tempDirFor(t);
  const msg = await expectDownloadError(
    resolveIsolated(FILE, { dataDir, cacheDir, sources: sourcesFor('/missing') }),
    /^could not download toy\/data\.bin from http:\/\/127\.0\.0\.1:\d+\/missing: HTTP 404 Not Found; put data\.bin in one of: /,
  );
  assert.ok(msg.includes(path.join(dataDir, 'toy')) && msg.includes(path.join(cacheDir, 'toy')) && msg.endsWith('or set ICNN_DATA_DIR'), msg);
  assert.deepEqual(cacheFiles(cacheDir), []);
});

test('connection refused (offline): the message gives the reason and the places to put the file', async (t) => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const cacheDir = tempDirFor(t);
  const sources: DataSources = { [FILE]: { url: `http://127.0.0.1:${port}/ok`, sha256: sha256(BODY), description: 'x' } };
  await expectDownloadError(
    resolveIsolated(FILE, { cacheDir, sources }),
    new RegExp(`^could not download toy/data\\.bin from http://127\\.0\\.0\\.1:${port}/ok: fetch failed: .*ECONNREFUSED.*; put data\\.bin in one of: .* or set ICNN_DATA_DIR$`),
  );
  assert.deepEqual(cacheFiles(cacheDir), []);
});

test('a response cut off before its Content-Length, or one that stalls, leaves nothing behind', async (t) => {
  const cacheDir = tempDirFor(t);
  await expectDownloadError(resolveIsolated(FILE, { cacheDir, sources: sourcesFor('/truncated') }), /\/truncated: (the transfer broke off after \d+ bytes|the response ended after \d+ of 300000 bytes)/);
  assert.deepEqual(cacheFiles(cacheDir), []);
  await expectDownloadError(resolveIsolated(FILE, { cacheDir, sources: sourcesFor('/stall'), timeoutMs: 300 }), /\/stall: the transfer broke off after 1000 bytes \(no data received for 300 ms\)/);
  assert.deepEqual(cacheFiles(cacheDir), []);
});

test('local files come first: dataDir (nested or flat), then ICNN_DATA_DIR, then the cache (verification off)', async (t) => {
  const dataDir = tempDirFor(t);
  const envDir = tempDirFor(t);
  const cacheDir = tempDirFor(t);
  const sources = sourcesFor('/missing');
  const unverified = { verify: false } as const;
  mkdirSync(path.join(cacheDir, 'toy'));
  writeFileSync(path.join(cacheDir, 'toy', 'data.bin'), 'cached');
  assert.equal(await resolveIsolated(FILE, { cacheDir, sources, ...unverified }), path.join(cacheDir, 'toy', 'data.bin'));
  writeFileSync(path.join(envDir, 'data.bin'), 'env, flat');
  await withEnv({ ICNN_DATA_DIR: envDir }, async () => {
    assert.equal(await resolveDataFile(FILE, { cacheDir, sources, ...unverified }), path.join(envDir, 'data.bin'));
    mkdirSync(path.join(dataDir, 'toy'));
    writeFileSync(path.join(dataDir, 'toy', 'data.bin'), 'explicit, nested');
    assert.equal(await resolveDataFile(FILE, { dataDir, cacheDir, sources, ...unverified }), path.join(dataDir, 'toy', 'data.bin'));
    assert.deepEqual(dataSearchDirs({ dataDir }), [dataDir, envDir]);
  });
  assert.equal(hits.get('/missing') ?? 0, 1); // only the 404 test above asked for it
});

test('downloads stop at the published size while streaming: an endless body or a too large announcement leaves nothing behind', async (t) => {
  const cacheDir = tempDirFor(t);
  await expectDownloadError(resolveIsolated(FILE, { cacheDir, sources: sourcesFor('/endless') }), /\/endless: the transfer broke off after \d+ bytes \(more than 300000 bytes, the expected size; stopped\)/);
  assert.deepEqual(cacheFiles(cacheDir), []);
  await expectDownloadError(resolveIsolated(FILE, { cacheDir, sources: sourcesFor('/too-big') }), /the server announces 300000000 bytes, more than the 300000 expected; nothing was written/);
  assert.deepEqual(cacheFiles(cacheDir), []);
});

test('local files are verified by default, the cache included: a tampered or truncated copy is refused naming the file', async (t) => {
  const dataDir = tempDirFor(t);
  const cacheDir = tempDirFor(t);
  const sources = sourcesFor('/missing');
  mkdirSync(path.join(cacheDir, 'toy'));
  writeFileSync(path.join(cacheDir, 'toy', 'data.bin'), 'tampered');
  await assert.rejects(resolveIsolated(FILE, { cacheDir, sources }), /toy\/data\.bin: sha256 [0-9a-f]{64} \(8 bytes\) does not match the expected .*--no-verify/);
  writeFileSync(path.join(dataDir, 'data.bin'), OTHER.subarray(0, 1000));
  await assert.rejects(resolveIsolated(FILE, { dataDir, cacheDir, sources }), /data\.bin: sha256 [0-9a-f]{64} \(1000 bytes\) does not match/);
});

test('download: false, unknown files, verification of local files', async (t) => {
  const cacheDir = tempDirFor(t);
  const dataDir = tempDirFor(t);
  await assert.rejects(
    resolveIsolated(FILE, { dataDir, cacheDir, sources: sourcesFor('/ok'), download: false }),
    /data file toy\/data\.bin was not found \(looked in: .*\) and downloading is disabled; put data\.bin in one of/,
  );
  await assert.rejects(resolveIsolated('toy/unknown.bin', { cacheDir, sources: sourcesFor('/ok') }), /data file toy\/unknown\.bin was not found and has no known origin/);
  writeFileSync(path.join(dataDir, 'data.bin'), OTHER);
  await assert.rejects(resolveIsolated(FILE, { dataDir, cacheDir, sources: sourcesFor('/ok'), verify: true }), /data\.bin: sha256 [0-9a-f]{64} \(300000 bytes\) does not match the expected/);
  // A listed equivalent copy is accepted.
  const withCopy = sourcesFor('/ok', { equivalents: [{ sha256: sha256(OTHER), bytes: OTHER.length, note: 'copy' }] });
  assert.equal(await resolveIsolated(FILE, { dataDir, cacheDir, sources: withCopy, verify: true }), path.join(dataDir, 'data.bin'));
});

test('the cache directory: ICNN_CACHE_DIR, else $XDG_CACHE_HOME/icnn, else ~/.cache/icnn', () => {
  assert.equal(defaultCacheDir({ ICNN_CACHE_DIR: '/a/b', XDG_CACHE_HOME: '/x' }), path.resolve('/a/b'));
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x' }), path.resolve('/x', 'icnn'));
  assert.equal(defaultCacheDir({}), path.join(os.homedir(), '.cache', 'icnn'));
});

test('the default sources table: pinned https origins with sha256 for every file the loaders use', () => {
  for (const key of [BIBTEX_TRAIN_FILE, BIBTEX_TEST_FILE, BIBTEX_LABELS_FILE, OLIVETTI_MAT_FILE]) {
    const s = DATA_SOURCES[key];
    assert.match(s.url, /^https:\/\//);
    assert.match(s.sha256, /^[0-9a-f]{64}$/);
  }
  assert.match(DATA_SOURCES[BIBTEX_TRAIN_FILE].url, /raw\.githubusercontent\.com\/tsoumakas\/mulan\/[0-9a-f]{40}\/data\/multi-label\/bibtex\/bibtex-train\.arff$/);
  assert.equal(DATA_SOURCES[OLIVETTI_MAT_FILE].url, 'https://ndownloader.figshare.com/files/5976027');
});

test('loadBibtex and loadOlivetti download their files on first use and read them from the cache afterwards', async (t) => {
  const cacheDir = tempDirFor(t);
  const xml = '<?xml version="1.0"?>\n<labels xmlns="http://mulan.sourceforge.net/labels">\n<label name="TAG_a"></label>\n<label name="TAG_b"></label>\n</labels>\n';
  const head = '@relation toy\n\n@attribute w0 {0,1}\n@attribute w1 {0,1}\n@attribute w2 {0,1}\n@attribute TAG_a {0,1}\n@attribute TAG_b {0,1}\n\n@data\n';
  const train = `${head}{0 1,3 1}\n{1 1,2 1,4 1}\n{0 1,3 1,4 1}`;
  const test_ = `${head}{2 1,4 1}`;
  const faces = new Array<number>(4096 * 2);
  for (let i = 0; i < faces.length; i++) faces[i] = i % 200;
  const mat = matFile([compressed(matrix({ name: 'faces', classId: MX.DOUBLE, dims: [4096, 2], real: { type: MI.UINT8, values: faces } }))]);
  const files: [string, Uint8Array][] = [
    [BIBTEX_LABELS_FILE, new TextEncoder().encode(xml)],
    [BIBTEX_TRAIN_FILE, new TextEncoder().encode(train)],
    [BIBTEX_TEST_FILE, new TextEncoder().encode(test_)],
    [OLIVETTI_MAT_FILE, mat],
  ];
  const sources: Record<string, DataSources[string]> = {};
  for (const [key, bytes] of files) {
    served.set(`/files/${key}`, bytes);
    sources[key] = { url: `${base}/files/${key}`, sha256: sha256(bytes), bytes: bytes.length, description: key };
  }
  const downloaded: string[] = [];
  const onProgress = (e: DownloadProgress): void => {
    if (e.receivedBytes === 0) downloaded.push(e.file);
  };
  await withEnv({ ICNN_DATA_DIR: undefined }, async () => {
    for (let round = 0; round < 2; round++) {
      const b = await loadBibtex({ cacheDir, sources, onProgress });
      assert.deepEqual(b.labelNames, ['TAG_a', 'TAG_b']);
      assert.deepEqual(b.featureNames, ['w0', 'w1', 'w2']);
      assert.equal(b.train.n, 3);
      assert.deepEqual(Array.from(b.train.x), [1, 0, 0, 0, 1, 1, 1, 0, 0]);
      assert.deepEqual(Array.from(b.train.y), [1, 0, 0, 1, 1, 1]);
      assert.deepEqual(Array.from(b.test.y), [0, 1]);
      const o = await loadOlivetti({ cacheDir, sources });
      assert.equal(o.n, 2);
      // faces(r + 64c, i) = (4096 i + r + 64 c) % 200, upright at [i, r, c].
      assert.equal(o.pixels[4096 + 2 * 64 + 3], (4096 + 2 + 64 * 3) % 200);
    }
  });
  assert.deepEqual(downloaded, [BIBTEX_LABELS_FILE, BIBTEX_TRAIN_FILE, BIBTEX_TEST_FILE]);
  for (const [key] of files) assert.equal(hits.get(`/files/${key}`), 1, `${key} fetched once`);
  await assert.rejects(loadBibtex({ cacheDir, sources, dataDirectory: 'x' } as never), /loadBibtex: unknown option 'dataDirectory'/);
});
