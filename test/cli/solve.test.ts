/**
 * `icnn solve`: the command run as a process (node --import tsx on an entry that calls main() of src/cli/main.ts,
 * the way bin/icnn.js calls the built one), on small saved models in a temp dir; plus the CSV/JSON/domain parsers
 * in-process. Results are compared with argmin() called in this process on the same model and x.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FICNN, PICNN } from '../helpers/icnn.js';
import { argmin } from '../../src/inference/argmin.js';
import { parseDomain } from '../../src/cli/commands/solve.js';
import { parseRows as parseRowsFlat } from '../../src/cli/rows.js';
import { IcnnError } from '../../src/util/errors.js';
import { makeTempDir, removeDir } from '../helpers/tmp.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const X_DIM = 6;
const Y_DIM = 5;
const X: number[][] = [
  [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
  [1, 0, 1, 0, 1, 0],
  [-1.5, 2, 0.25, 3e-1, 0, 1],
];

let work = '';
let entry = '';
let picnnDir = '';
let ficnnDir = '';
let csv = '';
let picnn: PICNN;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function icnn(...args: string[]): Run {
  const env = { ...process.env };
  delete env.ICNN_BACKEND;
  const r = spawnSync(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Run): Run {
  assert.equal(r.status, 0, `exit status ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** A failed run: non-zero status, one `icnn: ` line on stderr matching every pattern, no stack trace, no stdout. */
function failsWith(r: Run, ...patterns: RegExp[]): void {
  assert.notEqual(r.status, 0, `expected a failure\nstdout: ${r.stdout}`);
  for (const p of patterns) assert.match(r.stderr, p);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(r.stdout, '');
}

interface SolveJson {
  method: string;
  model: string;
  domain: string;
  rows: number;
  yDim: number;
  y: number[][];
  energy: number[];
  objective: number[] | null;
  lowerBound: number[] | null;
  gap: number[] | null;
  iterations: number[];
  evaluations: number;
}

function solveJson(...args: string[]): SolveJson {
  return JSON.parse(ok(icnn('solve', '--json', ...args)).stdout) as SolveJson;
}

before(async () => {
  work = makeTempDir('icnn-solve-');
  entry = path.join(work, 'entry.ts');
  writeFileSync(entry, [
    `import { main } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/cli/main.ts')).href)};`,
    'main(process.argv).catch((err) => {',
    '  process.stderr.write(`icnn: ${err instanceof Error ? err.message : String(err)}\\n`);',
    '  process.exitCode = 1;',
    '});',
    '',
  ].join('\n'));
  picnnDir = path.join(work, 'saved picnn');
  picnn = new PICNN({ xDim: X_DIM, yDim: Y_DIM, hidden: [16, 8], batchNorm: true, seed: 11 });
  await picnn.save(picnnDir);
  ficnnDir = path.join(work, 'ficnn');
  const f = new FICNN({ yDim: 3, hidden: [8, 8], seed: 5 });
  await f.save(ficnnDir);
  f.dispose();
  csv = path.join(work, 'x.csv');
  writeFileSync(csv, ['x1,x2,x3,x4,x5,x6', ...X.map((r) => r.join(', ')), ''].join('\r\n'));
});

after(() => {
  picnn?.dispose();
  if (work) removeDir(work);
});

async function reference(method: 'gd' | 'bundle' | 'lp' | 'bundle-entropy') {
  const r = await argmin(picnn, X, { method });
  const y = r.y.arraySync();
  r.y.dispose();
  return { ...r, y };
}

describe('icnn solve (process)', () => {
  test('bundle: JSON matches argmin() in-process, with certified bounds', async () => {
    const out = solveJson('--model', picnnDir, '--x', csv, '--method', 'bundle');
    const ref = await reference('bundle');
    assert.equal(out.method, 'bundle');
    assert.equal(out.model, 'PICNN');
    assert.equal(out.rows, 3);
    assert.equal(out.y.length, 3);
    assert.ok(out.y.every((r) => r.length === Y_DIM && r.every((v) => v >= 0 && v <= 1)));
    assert.ok(out.lowerBound && out.gap);
    for (let i = 0; i < 3; i++) {
      assert.ok(Math.abs(out.energy[i] - ref.energy[i]) < 1e-5, `row ${i}: ${out.energy[i]} vs ${ref.energy[i]}`);
      assert.ok(out.lowerBound[i] <= out.energy[i] + 1e-6);
      assert.ok(Math.abs(out.gap[i] - (out.energy[i] - out.lowerBound[i])) < 1e-9);
      assert.ok(out.iterations[i] >= 1);
    }
    assert.equal(out.objective, null);
  });

  test('lp reaches the optimum: no gd energy is below it; gd has no lower bound', () => {
    const lp = solveJson('--model', picnnDir, '--x', csv, '--method', 'lp');
    const gd = solveJson('--model', picnnDir, '--x', csv, '--method', 'gd', '--iterations', '50');
    assert.equal(gd.lowerBound, null);
    assert.equal(gd.gap, null);
    assert.deepEqual(gd.iterations, [50, 50, 50]);
    for (let i = 0; i < 3; i++) assert.ok(lp.energy[i] <= gd.energy[i] + 1e-5, `row ${i}: lp ${lp.energy[i]} vs gd ${gd.energy[i]}`);
  });

  test('bundle-entropy reports f(ŷ), f − H and the bound of f − H; the table says so', async () => {
    const out = solveJson('--model', picnnDir, '--x', csv, '--method', 'bundle-entropy', '--iterations', '10');
    const ref = await argmin(picnn, X, { method: 'bundle-entropy', iterations: 10 });
    ref.y.dispose();
    assert.ok(out.objective && out.lowerBound && out.gap);
    for (let i = 0; i < 3; i++) {
      assert.ok(Math.abs(out.energy[i] - ref.energy[i]) < 1e-5);
      assert.ok(out.objective[i] < out.energy[i], 'f − H < f inside the box');
      // f comes from float32 kernels: at convergence the bound may pass f − H by a few float32 ulps of |f|.
      const ulps = 4 * 2 ** -23 * Math.max(1, Math.abs(out.energy[i]));
      assert.ok(out.lowerBound[i] <= out.objective[i] + ulps, `row ${i}: bound ${out.lowerBound[i]} vs f − H ${out.objective[i]}`);
      assert.ok(out.y[i].every((v) => v > 0 && v < 1), 'strictly inside the box');
    }
    const table = ok(icnn('solve', '--model', picnnDir, '--x', csv, '--method', 'bundle-entropy', '--iterations', '10')).stdout;
    assert.match(table, /^PICNN \(x width 6, y width 5\): method bundle-entropy, domain unit-box, 3 rows/m);
    assert.match(table, /^row +energy f\(ŷ\) +f − H +lower bound \(f − H\) +gap +iters +ŷ\[0\.\.4\]$/m);
    assert.match(table, /its lower bound and gap are for f − H/);
  });

  test('the table has one line per row with the energies, and --show limits it', () => {
    const ref = solveJson('--model', picnnDir, '--x', csv);
    const table = ok(icnn('solve', '--model', picnnDir, '--x', csv)).stdout;
    assert.match(table, /method gd, domain unit-box, 3 rows, 101 batched evaluations/);
    assert.match(table, /no lower bound/);
    for (let i = 0; i < 3; i++) {
      const line = new RegExp(`^${i} +(\\S+) +100 +((?:\\d\\.\\d{4} ){5})?`, 'm').exec(table);
      assert.ok(line, `row ${i} in\n${table}`);
      assert.ok(Math.abs(Number(line[1]) - ref.energy[i]) < 1e-5);
    }
    const short = ok(icnn('solve', '--model', picnnDir, '--x', csv, '--show', '1')).stdout;
    assert.match(short, /^0 /m);
    assert.doesNotMatch(short, /^1 /m);
    assert.match(short, /… 2 more rows/);
  });

  test('--out writes ŷ as CSV (atomically, nothing else left) equal to the JSON rows; JSON input gives the same', () => {
    const outFile = path.join(work, 'out', 'y.csv');
    const jsonX = path.join(work, 'x.json');
    writeFileSync(jsonX, JSON.stringify(X));
    const a = solveJson('--model', picnnDir, '--x', csv, '--method', 'bundle', '--out', outFile);
    const written = readFileSync(outFile, 'utf8');
    assert.match(written, /\n$/);
    const rows = written.trim().split('\n').map((l) => l.split(',').map(Number));
    assert.deepEqual(rows, a.y);
    assert.deepEqual(readdirSync(path.dirname(outFile)), ['y.csv']);
    const b = solveJson('--model', picnnDir, '--x', jsonX, '--method', 'bundle');
    assert.deepEqual(b.y, a.y);
    assert.deepEqual(b.energy, a.energy);
  });

  test('--domain L:U and simplex constrain ŷ; --learning-rate/--momentum run the paper\'s momentum gd', () => {
    const box = solveJson('--model', picnnDir, '--x', csv, '--domain', '-2:0.5', '--method', 'bundle');
    assert.equal(box.domain, '-2:0.5');
    assert.ok(box.y.flat().every((v) => v >= -2 && v <= 0.5));
    assert.ok(box.y.flat().some((v) => v < 0), 'uses the negative part of the box');
    const simplex = solveJson('--model', picnnDir, '--x', csv, '--domain', 'simplex');
    for (const r of simplex.y) assert.ok(Math.abs(r.reduce((s, v) => s + v, 0) - 1) < 1e-5 && r.every((v) => v >= 0));
    const mom = solveJson('--model', picnnDir, '--x', csv, '--learning-rate', '0.1', '--momentum', '0.3', '--iterations', '30');
    assert.deepEqual(mom.iterations, [30, 30, 30]);
  });

  test('a model without x takes --batch', () => {
    const out = solveJson('--model', ficnnDir, '--batch', '4', '--method', 'bundle');
    assert.equal(out.rows, 4);
    assert.equal(out.y.length, 4);
    assert.ok(out.y.every((r) => r.length === 3));
    const one = solveJson('--model', ficnnDir, '--method', 'lp');
    assert.equal(one.rows, 1);
    failsWith(icnn('solve', '--model', ficnnDir, '--x', csv), /^icnn: --x: this FICNN takes no x \(xDim 0\); use --batch N/);
  });
});

describe('icnn solve (process): errors', () => {
  test('missing model, missing x file, x required, --batch with x', () => {
    failsWith(icnn('solve', '--model', path.join(work, 'nope'), '--x', csv), /^icnn: /, /does not exist/);
    const missing = path.join(work, 'missing.csv');
    failsWith(icnn('solve', '--model', picnnDir, '--x', missing), new RegExp(`^icnn: --x ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: file not found`));
    failsWith(icnn('solve', '--model', picnnDir), /^icnn: --x <file> is required: this PICNN takes x of width 6/);
    failsWith(icnn('solve', '--model', picnnDir, '--x', csv, '--batch', '2'), /--batch is for models that take no x/);
  });

  test('malformed CSV names the line and column; wrong width names expected and actual', () => {
    const bad = path.join(work, 'bad.csv');
    writeFileSync(bad, 'x1,x2,x3,x4,x5,x6\n1,2,3,4,5,6\n1,2,oops,4,5,6\n');
    failsWith(icnn('solve', '--model', picnnDir, '--x', bad), /^icnn: --x .*bad\.csv: line 3, column 3: "oops" is not a finite number/);
    const narrow = path.join(work, 'narrow.csv');
    writeFileSync(narrow, '1,2,3,4,5,6\n1,2,3,4\n');
    failsWith(icnn('solve', '--model', picnnDir, '--x', narrow), /line 2 has 4 values, but the model takes x of width 6/);
  });

  test('unknown method and bad option values', () => {
    failsWith(icnn('solve', '--model', picnnDir, '--x', csv, '--method', 'newton'),
      /^icnn: --method: unknown method 'newton' \(expected one of: gd, bundle, bundle-entropy, lp\)/);
    failsWith(icnn('solve', '--model', picnnDir, '--x', csv, '--iterations', '0'), /--iterations <n>' argument '0' is invalid\. expected a positive integer/);
    failsWith(icnn('solve', '--model', picnnDir, '--x', csv, '--domain', 'ball'), /--domain <set>' argument 'ball' is invalid\. expected unit-box, simplex, unbounded or L:U/);
    failsWith(icnn('solve', '--model', picnnDir, '--x', csv, '--method', 'lp', '--domain', 'unbounded'), /method 'lp' needs a box domain/);
  });
});

describe('parseRows and parseDomain', () => {
  /** The rows of x as `icnn solve --x FILE` reads them, one array per row. */
  const parseRows = (text: string, file: string, width: number): Float32Array[] => {
    const flat = parseRowsFlat(text, file, width, { label: `--x ${file}`, name: 'x' });
    return Array.from({ length: flat.length / width }, (_, i) => flat.subarray(i * width, (i + 1) * width));
  };
  const rejects = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof IcnnError && re.test(e.message));

  test('CSV: header detection, blank lines, CRLF, BOM, spaces, exponents', () => {
    const rows = parseRows('\uFEFFa,b,c\r\n1, 2 ,3\r\n\r\n-1e-3,+.5,7.\n', 'x.csv', 3);
    assert.deepEqual(rows.map((r) => Array.from(r)), [[1, 2, 3], [Math.fround(-1e-3), 0.5, 7]]);
    assert.equal(parseRows('1,2\n3,4', 'x.csv', 2).length, 2, 'no header');
  });

  test('CSV errors', () => {
    rejects(() => parseRows('a,b\n1,x\n', 'f.csv', 2), /^--x f\.csv: line 2, column 2: "x" is not a finite number$/);
    rejects(() => parseRows('1,2,\n', 'f.csv', 2), /line 1, column 3: empty field/);
    rejects(() => parseRows('1,NaN\n', 'f.csv', 2), /line 1, column 2: "NaN" is not a finite number/);
    rejects(() => parseRows('1,Infinity\n', 'f.csv', 2), /"Infinity" is not a finite number/);
    rejects(() => parseRows('1,abc,3\n', 'f.csv', 3), /line 1, column 2/);
    rejects(() => parseRows('a,b,c\n1,2,3\n', 'f.csv', 2), /the header \(line 1\) has 3 columns, but the model takes x of width 2/);
    rejects(() => parseRows('1,2,3\n', 'f.csv', 2), /line 1 has 3 values, but the model takes x of width 2/);
    rejects(() => parseRows('\n\n', 'f.csv', 2), /no rows of x/);
    rejects(() => parseRows('a,b\n', 'f.csv', 2), /no rows of x/);
  });

  test('JSON rows and their errors', () => {
    assert.deepEqual(parseRows(' [[1,2],[3,4]]', 'x.txt', 2).map((r) => Array.from(r)), [[1, 2], [3, 4]]);
    rejects(() => parseRows('[[1,2],[3]]', 'x.json', 2), /^--x x\.json: rows\[1\] has 1 value, but the model takes x of width 2$/);
    rejects(() => parseRows('[[1,"2"]]', 'x.json', 2), /rows\[0\]\[1\] is "2", not a finite number/);
    rejects(() => parseRows('[[1,null]]', 'x.json', 2), /rows\[0\]\[1\] is null/);
    rejects(() => parseRows('{"x": []}', 'x.json', 2), /expected a JSON array of rows/);
    rejects(() => parseRows('[1, 2]', 'x.json', 2), /rows\[0\] is not an array/);
    rejects(() => parseRows('[[1,2]', 'x.json', 2), /not valid JSON/);
    rejects(() => parseRows('[]', 'x.json', 2), /no rows of x/);
  });

  test('domains', () => {
    assert.equal(parseDomain('unit-box'), 'unit-box');
    assert.equal(parseDomain('simplex'), 'simplex');
    assert.deepEqual(parseDomain('-1:1'), { lower: -1, upper: 1 });
    assert.deepEqual(parseDomain('0:2.5e1'), { lower: 0, upper: 25 });
    assert.throws(() => parseDomain('1:1'), /needs L < U, got 1:1/);
    assert.throws(() => parseDomain('a:1'), /expected unit-box, simplex, unbounded or L:U/);
    assert.throws(() => parseDomain('box'), /expected unit-box/);
  });
});
