/**
 * Fault injection through the real CLI (issue #19): one table of bad inputs, each with the command line, the files
 * it meets, the one-line error expected, the exit status, and the files that must come out unchanged ("nothing
 * lost"), in the spirit of SQLite's and PostgreSQL's error-path tests. Every case must end in a one-line error
 * naming what was wrong, exit 1, print nothing on stdout, show no stack trace or internal variable name, and
 * leave every listed file byte for byte as it was.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, removeDir } from '../helpers/tmp.js';
import { runCli, type CliRun } from './cli.js';

const SHARED_DATA = path.resolve(import.meta.dirname, '../../../shared/data');

interface FaultCase {
  name: string;
  /** Files and directories the case meets, made under its own directory `dir`. */
  setup?: (dir: string) => void;
  args: (dir: string) => string[];
  env?: (dir: string) => Record<string, string | undefined>;
  /** The error line (stderr). */
  error: RegExp;
  /** Exit status (default 1). */
  status?: number;
  /** Files (relative to `dir`) that must be byte for byte unchanged afterwards. */
  unchanged?: string[];
  /** Paths (relative to `dir`) that must not exist afterwards: the command failed before any work. */
  absent?: string[];
  /** Skip when this says why (e.g. root ignores permissions). */
  skip?: () => string | false;
}

/** Internal names a user must never see (solver variables, library functions, JS error classes). */
const INTERNAL = /\bG\[\d|rowUpper|passModel|solveBundleEntropy|HiGHS|TypeError|RangeError|ReferenceError|Cannot destructure|\n\s+at /;

const TINY_MODEL = 'model';
const TRAIN_CONFIG = {
  model: { kind: 'PICNN', xDim: 4, yDim: 3, hidden: [8], seed: 1 },
  data: { 'synthetic-multilabel': { n: 32, xDim: 4, yDim: 3, seed: 1, sampleSeed: 2 } },
  objective: 'unrolled-gd', objectiveOptions: { steps: 2 }, optimizer: { learningRate: 0.01 },
  epochs: 1, batchSize: 16, checkpoint: { dir: 'ckpt' }, out: 'out',
};

let fixtures = '';

function writeConfig(dir: string, over: Record<string, unknown> = {}, name = 'config.json'): void {
  writeFileSync(path.join(dir, name), JSON.stringify({ ...TRAIN_CONFIG, ...over }));
}

function withModel(dir: string): void {
  cpSync(path.join(fixtures, TINY_MODEL), path.join(dir, TINY_MODEL), { recursive: true });
}

function earlierCheckpoints(dir: string): void {
  mkdirSync(path.join(dir, 'ckpt', 'ckpt-00000004'), { recursive: true });
  writeFileSync(path.join(dir, 'ckpt', 'LATEST'), 'ckpt-00000004\n');
  writeFileSync(path.join(dir, 'ckpt', 'ckpt-00000004', 'state.json'), '{"format": "icnn-checkpoint", "formatVe');
}

function rlResults(dir: string, rel: string, over: Record<string, unknown> = {}): void {
  mkdirSync(path.join(dir, rel), { recursive: true });
  writeFileSync(path.join(dir, rel, 'results.json'), JSON.stringify({
    format: 'icnn-rl-results', version: 1, env: 'Pendulum', agent: 'ddpg', seed: 0, testInterval: 1000, testEpisodes: 1,
    maxEpisodeSteps: 1000, rewardScale: 1, updatesPerStep: 1, agentOptions: { hidden: [8, 8] }, steps: 5000, complete: true,
    tests: [], train: [], metrics: {}, timing: {}, ...over,
  }));
}

/** A copy of the BibTeX files in `dir/data/bibtex`, the training split cut at a line boundary (or edited). */
function bibtexCopy(dir: string, edit: (text: string) => string): void {
  const to = path.join(dir, 'data', 'bibtex');
  mkdirSync(to, { recursive: true });
  for (const f of ['bibtex-test.arff', 'bibtex.xml']) copyFileSync(path.join(SHARED_DATA, 'bibtex', f), path.join(to, f));
  writeFileSync(path.join(to, 'bibtex-train.arff'), edit(readFileSync(path.join(SHARED_DATA, 'bibtex', 'bibtex-train.arff'), 'utf8')));
}

const RL = ['rl', '--env', 'Pendulum', '--agent', 'ddpg', '--steps', '20', '--test-interval', '10', '--hidden', '8,8', '--progress', 'none'];

const CASES: FaultCase[] = [
  // ---- actionable errors: commands and options ----
  { name: 'unknown command with --help', args: () => ['rl-sweeps', '--help'], error: /unknown command 'rl-sweeps'/ },
  { name: 'unknown option', args: () => ['status', '--bogus'], error: /unknown option '--bogus'/ },

  // ---- nothing lost ----
  {
    name: 'train: a fresh run over an earlier run\'s checkpoints', setup: (d) => { writeConfig(d); earlierCheckpoints(d); },
    args: (d) => ['train', '--config', path.join(d, 'config.json'), '--progress', 'none'],
    error: /holds checkpoints of an earlier run .*--resume .*--force/, unchanged: ['ckpt/LATEST', 'ckpt/ckpt-00000004/state.json'], absent: ['out'],
  },
  {
    name: 'train: --out holding a finished model', setup: (d) => { writeConfig(d); withModel(d); },
    args: (d) => ['train', '--config', path.join(d, 'config.json'), '--out', d, '--progress', 'none'],
    error: /already holds model of a finished run; choose another --out, or give --force/, unchanged: ['model/model.json'], absent: ['ckpt'],
  },
  {
    name: 'rl: --out holding a complete run of other settings', setup: (d) => rlResults(d, 'run'),
    args: (d) => [...RL, '--out', path.join(d, 'run')],
    error: /holds a complete run of other settings \(.*steps 5000 there, 20 here.*\); choose another --out, or give --force/, unchanged: ['run/results.json'],
  },
  {
    name: 'reproduce: --out holding an earlier report', setup: (d) => writeFileSync(path.join(d, 'results.json'), '{"name": "earlier"}'),
    args: (d) => ['reproduce', 'synthetic', '--quick', '--out', d], error: /already holds results\.json of a finished run.*--force/, unchanged: ['results.json'],
  },

  // ---- fail before work: output locations ----
  {
    name: 'train: --out below a regular file', setup: (d) => { writeConfig(d); writeFileSync(path.join(d, 'file'), 'x'); },
    args: (d) => ['train', '--config', path.join(d, 'config.json'), '--out', path.join(d, 'file', 'out'), '--progress', 'none'],
    error: /--out .*file\/out: cannot write there \(a part of the path is a file, not a directory\)/, unchanged: ['file'], absent: ['ckpt'],
  },
  {
    name: 'train: --out under /proc', setup: (d) => writeConfig(d),
    args: (d) => ['train', '--config', path.join(d, 'config.json'), '--out', '/proc/icnn-test/out', '--progress', 'none'],
    error: /--out \/proc\/icnn-test\/out: cannot write there \(\/proc is a kernel pseudo file system/, absent: ['ckpt'],
  },
  {
    name: 'train: read-only --out', setup: (d) => { writeConfig(d); mkdirSync(path.join(d, 'ro')); chmodSync(path.join(d, 'ro'), 0o555); },
    args: (d) => ['train', '--config', path.join(d, 'config.json'), '--out', path.join(d, 'ro', 'out'), '--progress', 'none'],
    error: /cannot write there \(permission denied\)/, absent: ['ckpt'], skip: () => (process.getuid?.() === 0 ? 'root ignores permissions' : false),
  },
  { name: 'rl: --out under /proc', args: () => [...RL, '--out', '/proc/self/icnn/x'], error: /--out \/proc\/self\/icnn\/x: cannot write there \(\/proc is a kernel pseudo/ },
  { name: 'rl: --out under /sys', args: () => [...RL, '--out', '/sys/icnn'], error: /--out \/sys\/icnn: cannot write there/ },
  {
    name: 'rl: --out below a regular file', setup: (d) => writeFileSync(path.join(d, 'file'), 'x'),
    args: (d) => [...RL, '--out', path.join(d, 'file', 'run')], error: /cannot write there \(a part of the path is a file/, unchanged: ['file'],
  },
  { name: 'rl-table: --out under /proc', args: () => ['rl-table', '--envs', 'Pendulum', '--agents', 'ddpg', '--steps', '10', '--out', '/proc/icnn'], error: /--out \/proc\/icnn: cannot write there/ },
  { name: 'reproduce: --out under /proc', args: () => ['reproduce', 'synthetic', '--quick', '--out', '/proc/icnn'], error: /--out \/proc\/icnn: cannot write there/ },
  {
    name: 'solve: --out under /proc', setup: withModel, args: (d) => ['solve', '--model', path.join(d, 'model'), '--x', path.join(fixtures, 'x.csv'), '--out', '/proc/y.csv'],
    error: /--out \/proc\/y\.csv: cannot write there/,
  },
  {
    name: 'solve: --out is a directory', setup: withModel, args: (d) => ['solve', '--model', path.join(d, 'model'), '--x', path.join(fixtures, 'x.csv'), '--out', d],
    error: /cannot write there \(it is a directory, not a file\)/,
  },

  // ---- numeric domain ----
  { name: 'rl --steps 0x10 (hex)', args: () => ['rl', '--env', 'Pendulum', '--agent', 'ddpg', '--steps', '0x10'], error: /'--steps <n>' argument '0x10' is invalid\. expected a positive integer/ },
  { name: 'rl --lr 1e39 (beyond float32)', args: () => [...RL, '--lr', '1e39'], error: /'--lr <rate>' argument '1e39' is invalid\. .*float32/ },
  { name: 'rl --reward-scale Infinity', args: () => [...RL, '--reward-scale', 'Infinity'], error: /'--reward-scale <k>' argument 'Infinity' is invalid/ },
  { name: 'reproduce --seed 0x10', args: () => ['reproduce', 'synthetic', '--seed', '0x10'], error: /--seed must be a non-negative integer, got "0x10"/ },
  { name: 'reproduce --seed ""', args: () => ['reproduce', 'synthetic', '--seed', ''], error: /--seed must be a non-negative integer, got ""/ },
  { name: 'reproduce --seed -5', args: () => ['reproduce', 'synthetic', '--seed', '-5'], error: /--seed must be a non-negative integer, got "-5"/ },
  { name: 'reproduce --epochs 1e999', args: () => ['reproduce', 'synthetic', '--epochs', '1e999'], error: /--epochs must be a positive integer, got "1e999" \(not a finite number\)/ },
  { name: 'solve --domain=-1e39:1', args: () => ['solve', '--model', 'x', '--domain=-1e39:1'], error: /'--domain <set>' argument '-1e39:1' is invalid/ },
  {
    name: 'solve: x of 1e30 overflows the energy (gd, --json)', setup: withModel,
    args: (d) => ['solve', '--model', path.join(d, 'model'), '--x', path.join(fixtures, 'huge.csv'), '--json'],
    error: /--method gd: row 1: the energy, its gradient or the solution is not finite/,
  },
  ...['lp', 'bundle', 'bundle-entropy'].map((method): FaultCase => ({
    name: `solve: x of 1e30 with --method ${method}`, setup: withModel,
    args: (d) => ['solve', '--model', path.join(d, 'model'), '--x', path.join(fixtures, 'huge.csv'), '--method', method],
    error: new RegExp(`--method ${method}: row 1: the energy, its gradient or the solution is not finite`),
  })),
  {
    name: 'solve: a CSV value of nan', setup: (d) => { withModel(d); writeFileSync(path.join(d, 'x.csv'), '0,0,0,0\n0,nan,0,0\n'); },
    args: (d) => ['solve', '--model', path.join(d, 'model'), '--x', path.join(d, 'x.csv')], error: /x\.csv: line 2, column 2: "nan" is not a finite number/,
  },
  {
    name: 'train: config learningRate 1e39', setup: (d) => writeConfig(d, { optimizer: { learningRate: 1e39 } }),
    args: (d) => ['train', '--config', path.join(d, 'config.json')], error: /config\.optimizer\.learningRate must be a finite number > 0, got 1e\+39 \(beyond the float32 range/,
  },
  {
    name: 'train: a data value beyond float32',
    setup: (d) => {
      writeFileSync(path.join(d, 'data.json'), JSON.stringify({ x: [[0, 0, 0, 1e39]], y: [[0, 1, 0]] }));
      writeConfig(d, { data: { json: 'data.json' } });
    },
    args: (d) => ['train', '--config', path.join(d, 'config.json')], error: /data\.json: x\[0\]\[3\] is 1e\+39, not a finite number within float32 range/,
  },
  {
    name: 'train: argmin-bundle-entropy diverging with learning rate 1e30',
    setup: (d) => writeConfig(d, { objective: 'argmin-bundle-entropy', objectiveOptions: undefined, optimizer: { learningRate: 1e30 }, epochs: 2 }),
    args: (d) => ['train', '--config', path.join(d, 'config.json'), '--progress', 'none'],
    error: /fit: the loss or its gradient is not finite at step \d+ \(epoch \d\).*lower the learning rate \(config\.optimizer\.learningRate\)/, absent: ['out/model', 'ckpt/LATEST'],
  },

  // ---- data integrity ----
  {
    name: 'reproduce bibtex: --data-dir with a training split cut at a line boundary',
    setup: (d) => bibtexCopy(d, (t) => t.slice(0, t.lastIndexOf('\n', t.length - 1000) + 1)),
    args: (d) => ['reproduce', 'bibtex', '--quick', '--models', 'ff', '--data-dir', path.join(d, 'data'), '--out', path.join(d, 'out')],
    error: /bibtex-train\.arff: sha256 [0-9a-f]{64} \(\d+ bytes\) does not match the expected 8dcc9de6.*--no-verify/, absent: ['out/results.json'],
  },
  {
    name: 'reproduce bibtex: the same cut file through ICNN_DATA_DIR',
    setup: (d) => bibtexCopy(d, (t) => t.slice(0, t.lastIndexOf('\n', t.length - 1000) + 1)),
    args: (d) => ['reproduce', 'bibtex', '--quick', '--models', 'ff', '--out', path.join(d, 'out')], env: (d) => ({ ICNN_DATA_DIR: path.join(d, 'data') }),
    error: /bibtex-train\.arff: sha256 .* does not match/, absent: ['out/results.json'],
  },
  {
    name: 'reproduce bibtex: a tampered cache entry', setup: (d) => bibtexCopy(d, (t) => t.replace('@data', '@data\n')),
    args: (d) => ['reproduce', 'bibtex', '--quick', '--models', 'ff', '--out', path.join(d, 'out')],
    env: (d) => ({ ICNN_DATA_DIR: undefined, ICNN_CACHE_DIR: path.join(d, 'data') }), error: /bibtex-train\.arff: sha256 .* does not match/,
  },
  ...([['?', /missing value '\?'/], ['1e999', /'1e999'/]] as const).map(([value, why]): FaultCase => ({
    name: `reproduce bibtex --no-verify: an ARFF value ${value} is an error with file:line`,
    setup: (d) => bibtexCopy(d, (t) => t.replace(/\n\{(\d+) 1,/, `\n{$1 ${value},`)),
    args: (d) => ['reproduce', 'bibtex', '--quick', '--models', 'ff', '--no-verify', '--data-dir', path.join(d, 'data'), '--out', path.join(d, 'out')],
    error: new RegExp(`bibtex-train\\.arff:\\d+:\\d+: .*${why.source}`), absent: ['out/results.json'],
  })),

  // ---- actionable errors: damaged files ----
  {
    name: 'summary: model.json with xDim 2e7', setup: (d) => { withModel(d); editJson(path.join(d, 'model', 'model.json'), (m) => { m.config.xDim = 2e7; }); },
    args: (d) => ['summary', '--model', path.join(d, 'model')], error: /config\.xDim is 20000000, more than the \d+ parameters stored/,
  },
  {
    name: 'solve: model.json with xDim 1e9', setup: (d) => { withModel(d); editJson(path.join(d, 'model', 'model.json'), (m) => { m.config.xDim = 1e9; }); },
    args: (d) => ['solve', '--model', path.join(d, 'model'), '--x', path.join(fixtures, 'x.csv')], error: /config\.xDim is 1000000000, more than/,
  },
  {
    name: 'solve: a truncated model.json', setup: (d) => { withModel(d); truncate(path.join(d, 'model', 'model.json')); },
    args: (d) => ['solve', '--model', path.join(d, 'model'), '--x', path.join(fixtures, 'x.csv')], error: /model\.json is not valid JSON/,
  },
  {
    name: 'train --resume: a truncated checkpoint state.json', setup: (d) => { writeConfig(d); earlierCheckpoints(d); },
    args: (d) => ['train', '--config', path.join(d, 'config.json'), '--resume', path.join(d, 'ckpt'), '--progress', 'none'],
    error: /checkpoint .*ckpt-00000004: cannot read state\.json/, unchanged: ['ckpt/LATEST', 'ckpt/ckpt-00000004/state.json'],
  },
  {
    name: 'rl: a truncated checkpoint.json in --out', setup: (d) => { mkdirSync(path.join(d, 'run')); writeFileSync(path.join(d, 'run', 'checkpoint.json'), '{"format": "icnn-rl-checkpoint", "ver'); },
    args: (d) => [...RL, '--out', path.join(d, 'run')], error: /checkpoint .*run\/checkpoint\.json: not valid JSON/, unchanged: ['run/checkpoint.json'],
  },
  {
    name: 'rl-collect: a truncated results.json', setup: (d) => { rlResults(d, 'runs/Pendulum/ddpg/seed-0'); truncate(path.join(d, 'runs/Pendulum/ddpg/seed-0/results.json')); },
    args: (d) => ['rl-collect', path.join(d, 'runs')], error: /rl-collect: results .*seed-0\/results\.json: not valid JSON/, absent: ['runs/table.md'],
  },
  {
    name: 'rl-collect: a results.json that is an array', setup: (d) => { mkdirSync(path.join(d, 'runs/Pendulum/ddpg/seed-0'), { recursive: true }); writeFileSync(path.join(d, 'runs/Pendulum/ddpg/seed-0/results.json'), '[]'); },
    args: (d) => ['rl-collect', path.join(d, 'runs')], error: /rl-collect: .*results\.json is not an icnn rl results file/, absent: ['runs/table.md'],
  },
  {
    name: 'rl-collect: a complete results.json without its tables', setup: (d) => rlResults(d, 'runs/Pendulum/ddpg/seed-0', { tests: undefined }),
    args: (d) => ['rl-collect', path.join(d, 'runs')], error: /results\.json lacks tests, metrics or timing/, absent: ['runs/table.md'],
  },
];

function editJson(file: string, edit: (doc: { config: Record<string, unknown> }) => void): void {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  edit(doc);
  writeFileSync(file, JSON.stringify(doc));
}

function truncate(file: string): void {
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.slice(0, Math.floor(text.length / 2)));
}

/** Every file under `dir` with its bytes, for "nothing lost" comparisons. */
function snapshot(dir: string, files: readonly string[]): Map<string, Buffer> {
  return new Map(files.map((f) => [f, readFileSync(path.join(dir, f))]));
}

function checkCase(c: FaultCase, dir: string, r: CliRun, before: Map<string, Buffer>): void {
  const where = `${c.name}\nstatus ${r.status} signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  assert.equal(r.signal, null, `hung or crashed: ${where}`);
  assert.equal(r.status, c.status ?? 1, where);
  assert.equal(r.stdout, '', `nothing on stdout: ${where}`);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('(add --help') && !l.startsWith('icnn reproduce ') && !l.startsWith('--no-verify:'));
  assert.equal(lines.length, 1, `one line of error: ${where}`);
  assert.match(lines[0], c.error, where);
  assert.doesNotMatch(r.stderr, INTERNAL, `no internal names: ${where}`);
  for (const [f, bytes] of before) assert.ok(readFileSync(path.join(dir, f)).equals(bytes), `${f} changed: ${where}`);
  for (const f of c.absent ?? []) assert.ok(!existsSync(path.join(dir, f)), `${f} exists: ${where}`);
}

describe('fault injection: every bad input ends in one line, exit 1, nothing lost', () => {
  const work = makeTempDir('icnn-faults-');
  after(() => {
    // Read-only fixtures would stop the clean-up.
    for (const e of readdirSync(work, { recursive: true }) as string[]) {
      const p = path.join(work, e);
      if (statSync(p).isDirectory()) chmodSync(p, 0o755);
    }
    removeDir(work);
  });

  before(async () => {
    fixtures = path.join(work, 'fixtures');
    mkdirSync(fixtures);
    const { buildModel } = await import('../../src/models/registry.js');
    await import('../helpers/icnn.js');
    const model = buildModel('PICNN', { xDim: 4, yDim: 3, hidden: [8], seed: 1 }, 'kind');
    await model.save(path.join(fixtures, TINY_MODEL));
    model.dispose();
    writeFileSync(path.join(fixtures, 'x.csv'), '0.1,0.2,0.3,0.4\n');
    writeFileSync(path.join(fixtures, 'huge.csv'), '0.1,0.2,0.3,0.4\n1e30,-1e30,1e30,1e30\n');
  });

  // Two children at a time: the cases are independent, and each spends most of its time starting up.
  const results = new Map<string, Promise<{ r: CliRun; before: Map<string, Buffer>; dir: string }>>();
  const lanes = [Promise.resolve(), Promise.resolve()] as Promise<unknown>[];
  const start = (c: FaultCase, i: number) => {
    const lane = i % lanes.length;
    const p = lanes[lane].then(async () => {
      const dir = path.join(work, `case-${i}`);
      mkdirSync(dir);
      c.setup?.(dir);
      const before = snapshot(dir, c.unchanged ?? []);
      const r = await runCli(c.args(dir), { ICNN_CACHE_DIR: path.join(dir, 'cache'), ...c.env?.(dir) }, 90_000);
      return { r, before, dir };
    });
    lanes[lane] = p.catch(() => undefined);
    results.set(c.name, p);
  };

  CASES.forEach((c, i) => {
    const skip = c.skip?.() ?? false;
    test(c.name, { skip }, async () => {
      if (!results.has(c.name)) {
        // Start this case and the next one, so that two run at once.
        [i, i + 1].filter((j) => j < CASES.length && !results.has(CASES[j].name) && !(CASES[j].skip?.() ?? false)).forEach((j) => start(CASES[j], j));
      }
      const { r, before, dir } = await results.get(c.name)!;
      checkCase(c, dir, r, before);
    });
  });
});
