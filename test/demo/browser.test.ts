/// <reference lib="dom" />
/**
 * End-to-end test of the demo page in a real browser: Debian's chromium (never a downloaded one) driven by
 * playwright-core, headless with --no-sandbox, on the page built by this test and served on 127.0.0.1.
 *
 * Backend: the page's default, tfjs's wasm backend (the .wasm files served next to main.js); the test asserts the
 * page reports it, so a silent fallback to cpu would fail here.
 *
 * It trains a PICNN on moons for a fixed number of steps and asserts the reported training accuracy exceeds 80%,
 * runs the inference view and asserts that bundle entropy ends within 1e-3 of its certified lower bound, checks
 * that bad input is reported on the page and that Stop ends a run, and saves a screenshot of each view under docs/
 * (linked from the README).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildDemo } from '../../demo/build.js';
import { serveDirectory, type RunningServer } from '../../demo/serve.js';
import { writeFileAtomic } from '../../src/util/atomicFile.js';
import { makeTempDir, removeDir } from '../helpers/tmp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Full-batch Adam steps on the 100 moons points (the page's default network: 64-64, learning rate 0.01). */
const TRAIN_STEPS = 150;
const MINUTES = 60_000;

let dir: string;
let server: RunningServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `no chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`);
  dir = makeTempDir('icnn-demo-');
  await buildDemo(path.join(dir, 'site'));
  server = await serveDirectory(path.join(dir, 'site'));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 2 * MINUTES });
}, { timeout: 5 * MINUTES });

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) removeDir(dir);
});

async function screenshot(name: string): Promise<void> {
  await writeFileAtomic(path.join(ROOT, 'docs', name), await page.screenshot({ fullPage: true }));
}

async function trainMessage(): Promise<string> {
  await page.click('#train-button');
  await page.waitForSelector('#train-message:not([hidden])', { timeout: MINUTES });
  return (await page.textContent('#train-message')) ?? '';
}

test('the page starts on the wasm backend without errors', async () => {
  assert.equal(await page.textContent('#backend'), 'wasm');
  assert.deepEqual(pageErrors, []);
});

test('bad input is reported on the page: no points, one class, a network too large', { timeout: 3 * MINUTES }, async () => {
  await page.click('#clear-points');
  assert.match(await trainMessage(), /no training points/);
  // Two clicks of class 0 on the empty plane.
  await page.selectOption('#click-class', '0');
  await page.click('#plane', { position: { x: 100, y: 100 } });
  await page.click('#plane', { position: { x: 300, y: 200 } });
  assert.match(await trainMessage(), /all 2 points are of class 0/);
  await page.selectOption('#dataset', 'moons');
  await page.fill('#hidden', '4000, 4000');
  assert.match(await trainMessage(), /network too large/);
  await page.fill('#hidden', '64, -1');
  assert.match(await trainMessage(), /hidden layers must be positive integers/);
  await page.fill('#hidden', '64, 64');
  assert.notEqual(await page.getAttribute('#train-view', 'data-finished'), 'true', 'nothing was trained');
  assert.deepEqual(pageErrors, []);
});

test('the stop button ends a training run early and keeps its last picture', { timeout: 3 * MINUTES }, async () => {
  await page.selectOption('#dataset', 'moons');
  await page.fill('#steps', '100000');
  await page.fill('#redraw-every', '1');
  await page.click('#train-button');
  await page.waitForFunction(() => /^step [1-9]/.test(document.getElementById('train-status')?.textContent ?? ''), null, { timeout: 2 * MINUTES });
  await page.click('#stop-button');
  await page.waitForSelector('#train-view[data-finished="true"]', { timeout: MINUTES });
  const status = (await page.textContent('#train-status')) ?? '';
  assert.match(status, /^step (\d+)\/100000, loss [0-9.]+ \(stopped\)$/);
  assert.ok(Number(/^step (\d+)/.exec(status)![1]) < 100000);
  assert.equal(await page.isDisabled('#train-button'), false);
  assert.equal(await page.isDisabled('#stop-button'), true);
  await page.fill('#redraw-every', '10');
  assert.deepEqual(pageErrors, []);
});

test(`training a PICNN on moons for ${TRAIN_STEPS} steps reaches > 80% training accuracy`, { timeout: 8 * MINUTES }, async () => {
  await page.selectOption('#dataset', 'moons');
  await page.selectOption('#model', 'PICNN');
  await page.fill('#steps', String(TRAIN_STEPS));
  await page.click('#train-button');
  await page.waitForSelector('#train-view[data-finished="true"]', { timeout: 7 * MINUTES });
  assert.match((await page.textContent('#train-status')) ?? '', new RegExp(`step ${TRAIN_STEPS}/${TRAIN_STEPS}, loss [0-9.]+ \\(done\\)`));
  const accuracy = Number(await page.getAttribute('#train-accuracy', 'data-accuracy'));
  assert.ok(accuracy > 0.8, `training accuracy ${accuracy} should exceed 0.8`);
  assert.equal(await page.isHidden('#train-message'), true);
  assert.deepEqual(pageErrors, []);
  await screenshot('demo-train.png');
});

test('inference view: bundle entropy ends within 1e-3 of its certified lower bound', { timeout: 5 * MINUTES }, async () => {
  await page.click('#tab-infer');
  await page.click('#infer-run');
  await page.waitForSelector('#infer-view[data-state="done"]', { timeout: 4 * MINUTES });
  const gap = Number(await page.getAttribute('#infer-gap', 'data-gap'));
  assert.ok(Number.isFinite(gap) && gap >= -1e-9 && gap <= 1e-3, `bundle entropy gap ${gap} should be in [0, 1e-3]`);
  const iterations = Number(await page.inputValue('#infer-iterations'));
  assert.equal(await page.locator('#infer-table-body tr').count(), iterations);
  assert.deepEqual(pageErrors, []);
  await screenshot('demo-infer.png');
});
