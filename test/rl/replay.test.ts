/** Replay buffer: circular storage, seeded uniform sampling, checkpoint state, refusals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayBuffer } from '../../src/rl/replay.js';
import { Rng } from '../../src/util/random.js';
import { IcnnError } from '../../src/util/errors.js';

function fill(buf: ReplayBuffer, n: number, from = 0): void {
  for (let i = from; i < from + n; i++) buf.add([i, -i], [i / 1000], i * 10, [i + 1, -(i + 1)], i % 7 === 0);
}

test('stores transitions row by row and overwrites the oldest when full', () => {
  const buf = new ReplayBuffer(5, 2, 1);
  fill(buf, 3);
  assert.equal(buf.size, 3);
  const b = buf.gather([0, 2]);
  assert.deepEqual([...b.observations], [0, -0, 2, -2]);
  assert.deepEqual([...b.nextObservations], [1, -1, 3, -3]);
  assert.deepEqual([...b.rewards], [0, 20]);
  assert.deepEqual([...b.terminals], [1, 0]);
  fill(buf, 4, 3); // 7 added into 5 slots: slots 0, 1 now hold transitions 5, 6
  assert.equal(buf.size, 5);
  assert.equal(buf.added, 7);
  const all = buf.gather([0, 1, 2, 3, 4]);
  assert.deepEqual([...all.rewards], [50, 60, 20, 30, 40]);
});

test('grows its storage beyond the initial block up to the capacity', () => {
  const buf = new ReplayBuffer(3000, 2, 1);
  fill(buf, 2500);
  assert.equal(buf.size, 2500);
  assert.deepEqual([...buf.gather([2499]).rewards], [24990]);
});

test('sampling is uniform with replacement and a function of the generator', () => {
  const buf = new ReplayBuffer(100, 2, 1);
  fill(buf, 10);
  const a = buf.sample(4000, new Rng(3));
  const b = buf.sample(4000, new Rng(3));
  assert.deepEqual(a.rewards, b.rewards);
  const counts = new Array(10).fill(0);
  for (const r of a.rewards) counts[r / 10]++;
  // Each of 10 items has expected count 400, std ≈ 19: every count within 5 std.
  for (const c of counts) assert.ok(Math.abs(c - 400) < 95, `counts ${counts}`);
});

test('state round trip restores the buffer exactly, including the write position', () => {
  const buf = new ReplayBuffer(8, 2, 1);
  fill(buf, 11);
  const copy = new ReplayBuffer(8, 2, 1);
  copy.setState(buf.getState());
  assert.equal(copy.size, 8);
  assert.equal(copy.added, 11);
  assert.deepEqual(copy.sample(50, new Rng(1)), buf.sample(50, new Rng(1)));
  fill(buf, 1, 100);
  fill(copy, 1, 100);
  assert.deepEqual(copy.gather([0, 1, 2, 3, 4, 5, 6, 7]), buf.gather([0, 1, 2, 3, 4, 5, 6, 7]));
  assert.throws(() => new ReplayBuffer(9, 2, 1).setState(buf.getState()), /capacity/);
});

test('refuses bad rows, non-finite values and sampling from an empty buffer', () => {
  const buf = new ReplayBuffer(4, 2, 1);
  assert.throws(() => buf.sample(1, new Rng(0)), IcnnError);
  assert.throws(() => buf.add([1], [0], 0, [1, 2], false), /observation must be an array of 2/);
  assert.throws(() => buf.add([1, NaN], [0], 0, [1, 2], false), /observation\[1\] must be a finite number/);
  assert.throws(() => buf.add([1, 2], [0], Infinity, [1, 2], false), /reward must be a finite number/);
  assert.throws(() => buf.add([1, 2], [0], 0, [1, 2], 1 as unknown as boolean), /terminal must be a boolean/);
  assert.throws(() => new ReplayBuffer(0, 2, 1), /capacity must be a positive integer/);
  fill(buf, 1);
  assert.throws(() => buf.gather([1]), /outside \[0, 1\)/);
});
