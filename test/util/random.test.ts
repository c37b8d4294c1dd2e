/** The seeded generator: deterministic, in range, roughly standard normal. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/random.js';

test('the same seed gives the same stream, different seeds differ', () => {
  assert.deepEqual(new Rng(5).fillNormal(50), new Rng(5).fillNormal(50));
  assert.notDeepEqual(new Rng(5).fillNormal(50), new Rng(6).fillNormal(50));
  assert.throws(() => new Rng(NaN), /finite/);
});

test('uniform, int and normal have the right ranges and moments', () => {
  const rng = new Rng(1);
  const n = 20_000;
  const u = rng.fillUniform(n, -2, 3);
  assert.ok(u.every((v) => v >= -2 && v < 3));
  const ints = Array.from({ length: 1000 }, () => rng.int(7));
  assert.ok(ints.every((v) => Number.isInteger(v) && v >= 0 && v < 7));
  assert.equal(new Set(ints).size, 7);
  const z = rng.fillNormal(n);
  const mean = z.reduce((a, b) => a + b, 0) / n;
  const variance = z.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
});

test('fork gives an independent, reproducible stream', () => {
  const a = new Rng(9);
  const b = new Rng(9);
  assert.deepEqual(a.fork().fillUniform(10), b.fork().fillUniform(10));
  assert.deepEqual(a.fillUniform(10), b.fillUniform(10));
});
