/**
 * The entropy duals' numerics module (src/inference/entropyDual/numerics.ts; `../shared/icnn-paper.md` §3.4):
 * σ, softplus, softplus differences, the binary and categorical entropies, logsumexp and softmax, against identities
 * and float64 references (series expansions, exact sums) at extreme arguments.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  binaryEntropy,
  binaryEntropyFromLogit,
  binaryEntropySum,
  categoricalEntropy,
  logistic,
  logSumExp,
  softmax,
  softplus,
  softplusDiff,
} from '../../../src/inference/entropyDual/numerics.js';
import { Rng } from '../../../src/util/random.js';

describe('stable scalar helpers', () => {
  test('logistic and softplus: finite at extremes, symmetric identities', () => {
    for (const x of [-1e308, -1000, -745, -40, -1, -1e-20, 0, 1e-20, 1, 40, 745, 1000, 1e308]) {
      const s = logistic(x);
      const sp = softplus(x);
      assert.ok(Number.isFinite(s) && s >= 0 && s <= 1, `σ(${x}) = ${s}`);
      assert.ok(Number.isFinite(sp) && sp >= 0, `softplus(${x}) = ${sp}`);
      assert.ok(Math.abs(s + logistic(-x) - 1) <= 1e-16);
      // softplus(x) − softplus(−x) = x.
      assert.ok(Math.abs(sp - softplus(-x) - x) <= 4e-16 * Math.max(1, Math.abs(x)));
    }
    assert.equal(logistic(0), 0.5);
    assert.equal(softplus(0), Math.LN2);
    assert.equal(softplus(-1000), 0);
    assert.equal(softplus(1000), 1000);
    // Tiny values keep relative accuracy: softplus(−50) = log1p(e^{−50}) ≈ e^{−50}.
    assert.ok(Math.abs(softplus(-50) / Math.exp(-50) - 1) < 1e-15);
    assert.ok(Math.abs(logistic(-50) / Math.exp(-50) - 1) < 1e-15);
  });

  test('softplusDiff keeps relative accuracy for tiny differences', () => {
    const rng = new Rng(4);
    for (let rep = 0; rep < 300; rep++) {
      const x = 20 * rng.normal();
      const delta = 10 ** (-15 + 14 * rng.uniform()) * (rng.uniform() < 0.5 ? -1 : 1);
      // Second-order Taylor reference: σ(x)δ + σ(x)σ(−x)δ²/2 + O(δ³).
      const s = logistic(x);
      const ref = s * delta + (s * logistic(-x) * delta * delta) / 2;
      const got = softplusDiff(x, delta);
      const tolAbs = Math.abs(delta) ** 3 + 1e-15 * Math.abs(ref);
      assert.ok(Math.abs(got - ref) <= tolAbs, `x=${x} δ=${delta}: ${got} vs ${ref}`);
    }
    // Large differences agree with the plain difference.
    for (const [x, d] of [
      [0, 5],
      [3, -40],
      [-30, 60],
      [800, -1600],
    ]) {
      assert.ok(Math.abs(softplusDiff(x, d) - (softplus(x + d) - softplus(x))) <= 1e-12 * Math.max(1, Math.abs(x)));
    }
    assert.equal(softplusDiff(3, 0), 0);
  });

  test('binary entropy: endpoints, maximum, the logit form', () => {
    assert.equal(binaryEntropy(0), 0);
    assert.equal(binaryEntropy(1), 0);
    assert.ok(Math.abs(binaryEntropy(0.5) - Math.LN2) < 1e-16);
    assert.ok(Number.isNaN(binaryEntropy(-0.1)) && Number.isNaN(binaryEntropy(1.5)));
    for (const a of [-30, -5, -1, -1e-9, 0, 1e-9, 1, 5, 30]) {
      const y = logistic(-a);
      assert.ok(Math.abs(binaryEntropyFromLogit(a) - binaryEntropy(y)) < 1e-14, `a=${a}`);
      assert.equal(binaryEntropyFromLogit(a), binaryEntropyFromLogit(-a));
    }
    // Where y rounds to 1 the logit form still gives the (tiny, positive) entropy ≈ (|a| + 1)e^{−|a|}.
    for (const a of [-40, -100, -700]) {
      const hval = binaryEntropyFromLogit(a);
      const approx = (Math.abs(a) + 1) * Math.exp(-Math.abs(a));
      assert.ok(Math.abs(hval / approx - 1) < 1e-12, `a=${a}: ${hval} vs ${approx}`);
    }
    assert.equal(binaryEntropyFromLogit(1e6), 0);
  });
});

/** |got − ref| ≤ rel·|ref| (exact equality when ref is 0). */
function assertRel(got: number, ref: number, rel: number, what: string): void {
  assert.ok(Math.abs(got - ref) <= rel * Math.abs(ref), `${what}: ${got} vs ${ref}`);
}

describe('numerics at extreme arguments, against float64 references', () => {
  test('logistic and softplus in the tails follow e^x (relative accuracy down to subnormals)', () => {
    // For x ≤ −40, σ(x) = eˣ/(1 + eˣ) and softplus(x) = log1p(eˣ) both equal eˣ to within eˣ relative.
    for (const x of [-40, -100, -300, -700, -740]) {
      assertRel(logistic(x), Math.exp(x), 1e-15, `σ(${x})`);
      assertRel(softplus(x), Math.exp(x), 1e-15, `softplus(${x})`);
    }
    // Far tail: below the smallest subnormal both are exactly 0 (never NaN or negative).
    assert.equal(logistic(-800), 0);
    assert.equal(softplus(-800), 0);
    // Upper tail: softplus(x) = x + e^{−x} rounds to x; σ(x) rounds to 1.
    for (const x of [40, 700, 1e6, 1e300]) {
      assert.equal(softplus(x), x);
      assert.equal(logistic(x), 1);
    }
  });

  test('softplusDiff in saturated regions matches the linear and exponential asymptotes', () => {
    // x ≫ 0: softplus is the identity plus e^{−x}, so the difference is δ to full relative accuracy.
    for (const d of [1e-300, 1e-12, -1e-6, 0.5]) assertRel(softplusDiff(800, d), d, 1e-15, `softplusDiff(800, ${d})`);
    // x ≪ 0: softplus(x + δ) − softplus(x) = eˣ(e^δ − 1) to within e^{2x}.
    for (const [x, d] of [[-60, 1e-9], [-300, 0.25], [-700, -0.75]]) {
      assertRel(softplusDiff(x, d), Math.exp(x) * Math.expm1(d), 1e-14, `softplusDiff(${x}, ${d})`);
    }
  });

  test('binary entropies: the logit form at saturation, the vector sum', () => {
    // H(σ(−a)) for |a| ≥ 40 is (|a| + 1)e^{−|a|} to within a relative e^{−|a|}; y itself rounds to 0 or 1 there.
    for (const a of [40, 200, 700]) assertRel(binaryEntropyFromLogit(a), (a + 1) * Math.exp(-a), 1e-13, `H at logit ${a}`);
    // Small y: H(y) = −y log y + y − y²/2 + O(y³).
    for (const y of [1e-300, 1e-100, 1e-20]) assertRel(binaryEntropy(y), -y * Math.log(y) + y, 1e-15, `H(${y})`);
    assert.equal(binaryEntropySum([0, 1, 0.5, 0.5]), 2 * binaryEntropy(0.5));
    assert.ok(Number.isNaN(binaryEntropySum([0.5, 2])));
    assert.equal(binaryEntropySum([]), 0);
  });

  test('categorical entropy: uniform, one-hot, tiny masses, invalid entries', () => {
    for (const n of [1, 2, 7, 1000]) assertRel(categoricalEntropy(new Float64Array(n).fill(1 / n)), Math.log(n), 1e-13, `uniform ${n}`);
    assert.equal(categoricalEntropy([0, 1, 0]), 0);
    // A mass ε beside the stored y₂ = fl(1 − ε): −ε log ε − y₂ log1p(y₂ − 1), y₂ − 1 exact (y₂ = 1 when ε < 2⁻⁵³).
    for (const eps of [1e-300, 1e-30, 1e-12, 1e-3]) {
      const y2 = 1 - eps;
      assertRel(categoricalEntropy([eps, y2]), -eps * Math.log(eps) - y2 * Math.log1p(y2 - 1), 1e-14, `ε=${eps}`);
    }
    assert.ok(Number.isNaN(categoricalEntropy([0.5, -0.1, 0.6])));
  });

  test('logSumExp: huge, tiny and mixed arguments without overflow', () => {
    // n equal entries: v + log n, also at the ends of the float64 range.
    for (const v of [1e308, -1e308, 700, -745, 0]) {
      for (const n of [1, 2, 3]) assertRel(logSumExp(new Float64Array(n).fill(v)), v + Math.log(n), 1e-15, `${n}×${v}`);
    }
    // One dominating entry: max + log1p(Σ e^{v_j − max}) with the rest underflowing.
    assert.equal(logSumExp([1000, 0, -1000]), 1000);
    assertRel(logSumExp([1, 0]), 1 + Math.log1p(Math.exp(-1)), 1e-16, 'lse(1, 0)');
    assertRel(logSumExp([-1000, -1000 - Math.LN2]), -1000 + Math.log(1.5), 1e-15, 'lse shifted');
    assert.equal(logSumExp([]), -Infinity);
    assert.equal(logSumExp([-Infinity, -Infinity]), -Infinity);
    assert.equal(logSumExp([Infinity, 0]), Infinity);
  });

  test('softmax: sums to 1, exact ratios at huge arguments, underflow to exact zeros', () => {
    const rng = new Rng(11);
    for (let rep = 0; rep < 50; rep++) {
      const v = Float64Array.from({ length: 1 + (rep % 9) }, () => 10 ** (rng.uniform() * 300) * rng.normal());
      const p = softmax(v);
      let sum = 0;
      for (let j = 0; j < p.length; j++) {
        assert.ok(p[j] >= 0 && p[j] <= 1, `p[${j}] = ${p[j]}`);
        sum += p[j];
      }
      assert.ok(Math.abs(sum - 1) <= 1e-15 * p.length, `sum ${sum}`);
      // log p_j = v_j − logsumexp(v) wherever p_j is not subnormal.
      const lse = logSumExp(v);
      for (let j = 0; j < p.length; j++) {
        if (p[j] > 1e-300) assert.ok(Math.abs(Math.log(p[j]) - (v[j] - lse)) <= 1e-12 * Math.max(1, Math.abs(lse)), `log p[${j}]`);
      }
    }
    assert.deepEqual(Array.from(softmax([1e308, 0, -1e308])), [1, 0, 0]);
    assert.deepEqual(Array.from(softmax([5, 5, 5, 5])), [0.25, 0.25, 0.25, 0.25]);
    const out = new Float64Array(2);
    assert.equal(softmax([0, Math.log(3)], out), out);
    assertRel(out[1], 0.75, 1e-15, 'softmax ratio');
  });
});
