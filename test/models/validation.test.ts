/**
 * Bad input is refused with an IcnnError whose message names the argument, what was expected and what came;
 * valid alternative input forms (nested arrays, image-shaped y) are accepted.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConvPICNN, FICNN, FeedForward, IcnnError, PICNN, tf, type EnergyModel } from '../helpers/icnn.js';
import { Rng } from '../../src/util/random.js';

/** Assert that `fn` throws an IcnnError whose message matches every pattern. */
function throwsIcnn(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IcnnError, `expected an IcnnError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    assert.equal(e.name, 'IcnnError');
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

/**
 * Like `throwsIcnn` for `call(...args)`, and checks that the refused call left no tensors behind. The arguments
 * are made outside the measured window (the few small temporaries among them are left to the process's end).
 */
function throwsIcnnNoLeak<A extends unknown[]>(makeArgs: () => [...A], call: (...args: A) => unknown, ...patterns: RegExp[]): void {
  const args = makeArgs();
  const before = tf.memory().numTensors;
  throwsIcnn(() => call(...args), ...patterns);
  assert.equal(tf.memory().numTensors, before, 'a refused call must not leak tensors');
}

const rng = new Rng(7);
const rand = (rows: number, cols: number): tf.Tensor2D => tf.tensor2d(rng.fillNormal(rows * cols), [rows, cols]);
const nested = (rows: number, cols: number): number[][] =>
  Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal()));

const SMALL_CONV = {
  xShape: [16, 8, 1], yShape: [16, 8, 1],
  conv: [{ filters: 4, kernel: 4, stride: 2 }, { filters: 4, kernel: 3, stride: 1 }], fcHidden: [8],
};

describe('energy inputs', () => {
  const picnn = new PICNN({ xDim: 5, yDim: 3, hidden: [6, 4], seed: 1 });
  const ficnnNoX = new FICNN({ yDim: 3, hidden: [4], seed: 2 });
  const x = rand(4, 5);
  const y = rand(4, 3);

  test('wrong rank of x or y', () => {
    throwsIcnnNoLeak(() => [x, tf.tensor1d([1, 2, 3])], (a, b) => picnn.energy(a, b), /PICNN\.energy/, /\by\b/, /\[N, 3\]/, /got \[3\]/);
    throwsIcnnNoLeak(() => [tf.zeros([4, 5, 1]), y], (a, b) => picnn.energy(a, b), /PICNN\.energy/, /\bx\b/, /\[N, 5\]/, /got \[4, 5, 1\]/);
    throwsIcnnNoLeak(() => [x, tf.scalar(1)], (a, b) => picnn.gradY(a, b), /PICNN\.energyAndGradY/, /\by must have shape/, /got \[\]/);
  });

  test('wrong widths', () => {
    throwsIcnnNoLeak(() => [x, rand(4, 4)], (a, b) => picnn.energy(a, b), /\by must have shape \[N, 3\], got \[4, 4\]/);
    throwsIcnnNoLeak(() => [rand(4, 6), y], (a, b) => picnn.energy(a, b), /\bx must have shape \[N, 5\], got \[4, 6\]/);
    throwsIcnnNoLeak(() => [nested(2, 4), nested(2, 3)], (a, b) => picnn.energy(a, b), /\bx must have shape \[N, 5\], got \[2, 4\]/);
  });

  test('x and y with different numbers of rows', () => {
    throwsIcnnNoLeak(() => [x, rand(3, 3)], (a, b) => picnn.energy(a, b), /same number of rows/, /x 4/, /y 3/);
    throwsIcnnNoLeak(() => [rand(2, 5), y], (a, b) => picnn.energyAndGradY(a, b), /PICNN\.energyAndGradY/, /same number of rows/);
  });

  test('empty batches', () => {
    throwsIcnnNoLeak(() => [tf.zeros([0, 5]), tf.zeros([0, 3])], (a, b) => picnn.energy(a, b), /no rows/);
  });

  test('ragged nested arrays and non-array input', () => {
    throwsIcnn(() => picnn.energy(x, [[1, 2, 3], [1, 2]]), /\by is not a rectangular array/);
    throwsIcnn(() => picnn.energy(x, 'abc' as unknown as number[][]), /\by must be a tf\.Tensor or an array of rows, got string/);
    throwsIcnn(() => ficnnNoX.energy(null, null as unknown as number[][]), /\by must be a tf\.Tensor or an array of rows, got null/);
  });

  test('NaN and Infinity are refused, naming the argument, row and column', () => {
    const yNaN = [[0, 1, 2], [3, 4, 5], [6, NaN, 8], [9, 10, 11]];
    throwsIcnnNoLeak(() => [x, yNaN], (a, b) => picnn.energy(a, b), /PICNN\.energy/, /\by contains NaN at row 2, column 1/, /finite/);
    const xInf = tf.tidy(() => {
      const data = rng.fillNormal(20);
      data[3 * 5 + 4] = Infinity;
      return tf.tensor2d(data, [4, 5]);
    });
    throwsIcnnNoLeak(() => [xInf, y], (a, b) => picnn.gradY(a, b), /\bx contains Infinity at row 3, column 4/);
    const yNegInf = [[0, 1, 2], [-Infinity, 4, 5]];
    throwsIcnnNoLeak(() => [yNegInf], (b) => ficnnNoX.energyAndGradY(null, b), /FICNN\.energyAndGradY/, /\by contains -Infinity at row 1, column 0/);
    // checkFinite: false skips the scan (for inner loops that know their inputs are finite).
    const e = ficnnNoX.energy(null, [[0, 1, 2], [NaN, 4, 5]], { checkFinite: false });
    assert.equal(e.shape[0], 2);
    assert.ok(Number.isNaN(e.dataSync()[1]));
    e.dispose();
    xInf.dispose();
  });

  test('NaN in an image-shaped y is located by its flattened column', () => {
    const conv = new ConvPICNN({ ...SMALL_CONV, seed: 1 });
    const yImg = tf.tidy(() => {
      const buf = tf.buffer([2, 16, 8, 1]);
      buf.set(NaN, 1, 2, 3, 0);
      return buf.toTensor();
    });
    throwsIcnnNoLeak(() => [tf.zeros([2, 128]), yImg], (a, b) => conv.energy(a, b), /ConvPICNN\.energy/, new RegExp(`\\by contains NaN at row 1, column ${2 * 8 + 3}\\b`));
    yImg.dispose();
    conv.dispose();
  });

  test('x given to a model that takes none, x missing for a model that needs one', () => {
    throwsIcnnNoLeak(() => [rand(4, 2), y], (a, b) => ficnnNoX.energy(a, b), /FICNN\.energy/, /takes no x/, /pass null/);
    throwsIcnnNoLeak(() => [y], (b) => picnn.energy(null, b), /PICNN\.energy/, /x is required/, /\[N, 5\]/);
    throwsIcnnNoLeak(() => [y], (b) => picnn.gradY(undefined as unknown as null, b), /x is required/);
    throwsIcnn(() => picnn.context(null), /PICNN\.context/, /options\.batch/);
    const ffJoint = new FeedForward({ xDim: 0, yDim: 3, hidden: [4], energy: 'joint' });
    throwsIcnn(() => ffJoint.energy(rand(4, 1), y), /FeedForward\.energy/, /takes no x/);
    ffJoint.dispose();
  });

  test('unknown energy() and context() options', () => {
    throwsIcnn(() => picnn.energy(x, y, { traning: true } as never), /PICNN\.energy/, /unknown option 'traning'/, /training, checkFinite/);
    throwsIcnn(() => picnn.gradY(x, y, { check: false } as never), /PICNN\.energyAndGradY/, /unknown option 'check'/);
    throwsIcnn(() => picnn.context(x, { train: true } as never), /PICNN\.context/, /unknown option 'train'/, /training, batch/);
  });

  test('a disposed model refuses to be used', () => {
    const m = new FICNN({ yDim: 3, hidden: [4], seed: 3 });
    m.dispose();
    assert.equal(m.isDisposed, true);
    m.dispose(); // idempotent
    throwsIcnn(() => m.energy(null, [[1, 2, 3]]), /FICNN/, /disposed/);
    throwsIcnn(() => m.gradY(null, [[1, 2, 3]]), /disposed/);
    throwsIcnn(() => m.context(null, { batch: 1 }), /disposed/);
    throwsIcnn(() => m.project(), /disposed/);
    throwsIcnn(() => m.toJSON(), /disposed/);
    throwsIcnn(() => m.summary(), /disposed/);
    throwsIcnn(() => m.trainableVariables, /disposed/);
    return assert.rejects(m.save('/nonexistent/never-written'), (e: unknown) => e instanceof IcnnError && /disposed/.test(e.message));
  });

  test('a disposed input tensor is refused', () => {
    const t = rand(4, 3);
    t.dispose();
    throwsIcnn(() => picnn.energy(x, t), /\by is a disposed tensor/);
  });

  test('nested number arrays are accepted and give the same energies and gradients as tensors', () => {
    const xs = nested(3, 5);
    const ys = nested(3, 3);
    const a = picnn.energy(xs, ys);
    const b = picnn.energy(tf.tensor2d(xs), tf.tensor2d(ys));
    assert.deepEqual(a.dataSync(), b.dataSync());
    const g = picnn.gradY(xs, ys);
    assert.deepEqual(g.shape, [3, 3]);
    const gt = picnn.gradY(tf.tensor2d(xs), tf.tensor2d(ys));
    assert.deepEqual(g.dataSync(), gt.dataSync());
    // int32 tensors are cast.
    const ei = ficnnNoX.energy(null, tf.tensor2d([[1, 0, -1]], [1, 3], 'int32'));
    const ef = ficnnNoX.energy(null, [[1, 0, -1]]);
    assert.equal(ei.dtype, 'float32');
    assert.deepEqual(ei.dataSync(), ef.dataSync());
    tf.dispose([a, b, g, gt, ei, ef]);
  });

  test('calls that succeed leave nothing behind but their results', () => {
    const before = tf.memory().numTensors;
    const e = picnn.energy(nested(3, 5), nested(3, 3));
    const { energy, grad } = picnn.energyAndGradY(x, y);
    assert.equal(tf.memory().numTensors, before + 3);
    tf.dispose([e, energy, grad]);
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('ConvPICNN input shapes', () => {
  const conv = new ConvPICNN({ ...SMALL_CONV, seed: 5 });
  const n = 3;
  const xFlat = tf.tensor2d(rng.fillNormal(n * 128), [n, 128]);
  const yFlat = tf.tensor2d(rng.fillUniform(n * 128), [n, 128]);
  const xImg = tf.reshape(xFlat, [n, 16, 8, 1]);
  const yImg = tf.reshape(yFlat, [n, 16, 8, 1]);

  test('x and y as [N, H, W, C] or [N, H*W*C] give the same energies', () => {
    const a = conv.energy(xFlat, yFlat);
    const b = conv.energy(xImg, yImg);
    const c = conv.energy(xImg, yFlat);
    assert.deepEqual(a.shape, [n]);
    assert.deepEqual(b.dataSync(), a.dataSync());
    assert.deepEqual(c.dataSync(), a.dataSync());
    tf.dispose([a, b, c]);
  });

  test('gradY returns the shape y was given in', () => {
    const gFlat = conv.gradY(xFlat, yFlat);
    const gImg = conv.gradY(xFlat, yImg);
    assert.deepEqual(gFlat.shape, [n, 128]);
    assert.deepEqual(gImg.shape, [n, 16, 8, 1]);
    assert.deepEqual(gImg.dataSync(), gFlat.dataSync());
    const both = conv.energyAndGradY(xImg, yImg);
    assert.deepEqual(both.grad.shape, [n, 16, 8, 1]);
    assert.deepEqual(both.energy.shape, [n]);
    tf.dispose([gFlat, gImg, both.energy, both.grad]);
  });

  test('gradY of nested image-shaped arrays is image-shaped too', () => {
    const yNested = yImg.arraySync() as number[][][][];
    const g = conv.gradY(xFlat, yNested);
    assert.deepEqual(g.shape, [n, 16, 8, 1]);
    g.dispose();
  });

  test('wrong image shapes are refused with both accepted forms in the message', () => {
    throwsIcnnNoLeak(() => [xFlat, tf.zeros([n, 8, 16, 1])], (a, b) => conv.energy(a, b), /\by must have shape \[N, 128\] or \[N, 16, 8, 1\], got \[3, 8, 16, 1\]/);
    throwsIcnnNoLeak(() => [tf.zeros([n, 16, 8]), yFlat], (a, b) => conv.energy(a, b), /\bx must have shape \[N, 128\] or \[N, 16, 8, 1\], got \[3, 16, 8\]/);
  });
});

describe('constructor options', () => {
  test('unknown options are named, with the allowed ones listed', () => {
    throwsIcnn(() => new PICNN({ xDim: 2, yDim: 2, hidden: [3], hiden: [4] } as never), /PICNN/, /unknown option 'hiden'/,
      /expected one of: xDim, yDim, hidden, uHidden, uActivation, batchNorm, gateBias, activation, leakySlope, positivity, init/);
    throwsIcnn(() => new FICNN({ yDim: 2, hidden: [3], batchNorm: true } as never), /FICNN/, /unknown option 'batchNorm'/, /xDim, yDim, hidden/);
    throwsIcnn(() => new ConvPICNN({ ...SMALL_CONV, padding: 'valid' } as never), /ConvPICNN/, /unknown option 'padding'/, /xShape, yShape, conv/);
    throwsIcnn(() => new ConvPICNN({ ...SMALL_CONV, conv: [{ filters: 2, kernel: 3, stride: 1, dilation: 2 }] } as never),
      /ConvPICNN: conv\[0\]: unknown option 'dilation'/, /filters, kernel, stride/);
    throwsIcnn(() => new FeedForward({ xDim: 2, yDim: 2, hidden: [3], positivity: 'clip' } as never), /FeedForward/, /unknown option 'positivity'/);
  });

  test('missing or malformed options', () => {
    throwsIcnn(() => new PICNN(undefined as never), /PICNN: options .* are required/);
    throwsIcnn(() => new FICNN(null as never), /FICNN: options .* are required/);
    throwsIcnn(() => new PICNN([] as never), /PICNN: options must be an object, got an array/);
    throwsIcnn(() => new PICNN({ xDim: 2, yDim: 0, hidden: [3] }), /yDim must be a positive integer, got 0/);
    throwsIcnn(() => new PICNN({ xDim: 2.5, yDim: 2, hidden: [3] }), /xDim must be a positive integer, got 2\.5/);
    throwsIcnn(() => new FICNN({ xDim: -1, yDim: 2, hidden: [3] }), /xDim must be a non-negative integer, got -1/);
    throwsIcnn(() => new FICNN({ yDim: 2, hidden: [3, 0] }), /hidden\[1\] must be a positive integer, got 0/);
    throwsIcnn(() => new FICNN({ yDim: 2, hidden: 3 as never }), /hidden must be an array of positive integers, got 3/);
    throwsIcnn(() => new FICNN({ yDim: 2, hidden: [3], positivity: 'abs' as never }), /positivity must be one of 'clip', 'softplus', 'none', got "abs"/);
    throwsIcnn(() => new FICNN({ yDim: 2, hidden: [3], init: 'xavier' as never }), /init must be one of 'abs', 'principled', got "xavier"/);
    throwsIcnn(() => new FICNN({ yDim: 2, hidden: [3], strongConvexity: -1 }), /strongConvexity must be a finite number in \[0, /);
    throwsIcnn(() => new FICNN({ yDim: 2, hidden: [3], seed: 0.5 }), /seed must be an integer, got 0\.5/);
    throwsIcnn(() => new PICNN({ xDim: 2, yDim: 2, hidden: [3], batchNorm: 'yes' as never }), /batchNorm must be a boolean, got "yes"/);
    throwsIcnn(() => new FeedForward({ xDim: 0, yDim: 2, hidden: [3] }), /energy 'linear' needs xDim > 0/);
    throwsIcnn(() => new FeedForward({ xDim: 2, yDim: 2, hidden: [3], energy: 'quadratic' as never }), /energy must be one of 'linear', 'joint'/);
  });

  test('non-convex activations are refused on the convex path', () => {
    for (const activation of ['tanh', 'sigmoid']) {
      for (const make of [
        () => new FICNN({ yDim: 2, hidden: [3], activation: activation as never }),
        () => new PICNN({ xDim: 2, yDim: 2, hidden: [3], activation: activation as never }),
        () => new ConvPICNN({ ...SMALL_CONV, activation: activation as never }),
      ]) {
        throwsIcnn(make, new RegExp(`activation "${activation}" cannot be used on the convex path`), /concave/, /convex and non-decreasing/,
          /relu, leaky-relu, softplus/);
      }
    }
    throwsIcnn(() => new FICNN({ yDim: 2, hidden: [3], activation: 'gelu' as never }), /not monotone/, /convex and non-decreasing/);
    throwsIcnn(() => new FICNN({ yDim: 2, hidden: [3], activation: 'linear' as never }), /convex path/);
    // The u-path and the feed-forward baseline may use them.
    const ok = [
      new PICNN({ xDim: 2, yDim: 2, hidden: [3], uActivation: 'tanh' }),
      new FeedForward({ xDim: 2, yDim: 2, hidden: [3], activation: 'sigmoid' }),
    ];
    for (const m of ok) m.dispose();
    throwsIcnn(() => new PICNN({ xDim: 2, yDim: 2, hidden: [3], uActivation: 'swish' as never }), /uActivation must be one of .*, got "swish"/, /'tanh', 'sigmoid'/);
  });

  test('leaky-relu slope must lie in [0, 1]', () => {
    for (const leakySlope of [-0.1, 1.5, NaN]) {
      throwsIcnn(() => new FICNN({ yDim: 2, hidden: [3], activation: 'leaky-relu', leakySlope }), /leakySlope/, /\[0, 1\]/);
      throwsIcnn(() => new PICNN({ xDim: 2, yDim: 2, hidden: [3], activation: 'leaky-relu', leakySlope }), /PICNN/, /leakySlope/, /\[0, 1\]/);
    }
    for (const leakySlope of [0, 0.2, 1]) new FICNN({ yDim: 2, hidden: [3], activation: 'leaky-relu', leakySlope }).dispose();
  });

  test('uHidden must have one width per hidden layer', () => {
    throwsIcnn(() => new PICNN({ xDim: 4, yDim: 2, hidden: [8, 6], uHidden: [5] }), /uHidden must have one width per hidden layer \(2\), got 1: \[5\]/);
    throwsIcnn(() => new PICNN({ xDim: 4, yDim: 2, hidden: [8], uHidden: [5, 5] }), /uHidden.*\(1\), got 2/);
    throwsIcnn(() => new PICNN({ xDim: 4, yDim: 2, hidden: [8], uHidden: [0] }), /uHidden\[0\] must be a positive integer/);
  });

  test('ConvPICNN: x and y images must have the same height and width', () => {
    throwsIcnn(() => new ConvPICNN({ ...SMALL_CONV, yShape: [8, 8, 1] }), /same height and width/, /xShape \[16, 8, 1\]/, /yShape \[8, 8, 1\]/);
    throwsIcnn(() => new ConvPICNN({ ...SMALL_CONV, xShape: [16, 4, 1] }), /same height and width/);
    // Channels may differ.
    new ConvPICNN({ ...SMALL_CONV, xShape: [16, 8, 3] }).dispose();
    throwsIcnn(() => new ConvPICNN({ ...SMALL_CONV, xShape: [16, 8] }), /xShape must be \[height, width, channels\], got \[16,8\]/);
    throwsIcnn(() => new ConvPICNN({ ...SMALL_CONV, conv: [] }), /conv must have at least one layer/);
    throwsIcnn(() => new ConvPICNN({ ...SMALL_CONV, conv: [{ filters: 2, kernel: 0, stride: 1 }] }), /conv\[0\]\.kernel must be a positive integer/);
  });
});

test('every model kind is an EnergyModel with the documented shapes', () => {
  const models: EnergyModel[] = [
    new FICNN({ yDim: 3, hidden: [4] }),
    new PICNN({ xDim: 5, yDim: 3, hidden: [4] }),
    new ConvPICNN({ ...SMALL_CONV }),
    new FeedForward({ xDim: 5, yDim: 3, hidden: [4] }),
  ];
  assert.deepEqual(models.map((m) => [m.xDim, m.yDim]), [[0, 3], [5, 3], [128, 128], [5, 3]]);
  for (const m of models) m.dispose();
});
