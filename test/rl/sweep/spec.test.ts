/** Sweep specs: validation (errors name the bad field's path), seeded expansion, run keys. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PAPER_SWEEP_SPEC, validateSweepSpec } from '../../../src/rl/sweep/spec.js';
import { canonicalJson, expandSweep, runDirectory, runKey, type SweepRun } from '../../../src/rl/sweep/expand.js';
import { checkRun } from '../../../src/rl/sweep/execute.js';
import { PAPER_BUDGETS } from '../../../src/rl/runner.js';

const paperRuns = (): SweepRun[] => expandSweep(validateSweepSpec(structuredClone(PAPER_SWEEP_SPEC)));

test('the paper spec expands into 10 tasks × 50 samples × 3 agents with the paper budgets, distinct keys, the same on every expansion', () => {
  const runs = paperRuns();
  assert.equal(runs.length, 10 * 50 * 3);
  assert.equal(new Set(runs.map((r) => r.hash)).size, runs.length);
  assert.deepEqual(paperRuns(), runs);
  for (const r of runs) assert.equal(r.steps, PAPER_BUDGETS[r.task].steps);
  assert.equal(runDirectory('/out', runs[0]), `/out/${runs[0].task}/${runs[0].agent}/${runs[0].hash}`);
});

test("the paper spec's draws follow §5.4's distributions; a sample is shared by the agents; agent-only parameters go to their agent", () => {
  const runs = paperRuns().filter((r) => r.task === 'Reacher');
  const seen = { zeroL2: 0, zeroSlope: 0 };
  for (const r of runs) {
    const o = r.agentOptions;
    const [h0, h1] = o.hidden as [number, number];
    assert.ok(Number.isInteger(h0) && h0 >= 100 && h0 < 600, `l1 ${h0}`);
    assert.ok(Number.isInteger(h1) && h1 >= 100 && (h1 < h0 || h0 === 100), `l2 ${h1} (l1 ${h0})`);
    assert.ok(r.rewardScale >= 1e-4 && r.rewardScale <= 10, `reward scale ${r.rewardScale}`);
    assert.ok(o.l2 === 0 || ((o.l2 as number) >= 1e-8 && (o.l2 as number) <= 1e-2), `l2 ${o.l2}`);
    if (o.l2 === 0) seen.zeroL2++;
    assert.ok((o.learningRate as number) >= 1e-4 && (o.learningRate as number) <= 0.1);
    assert.ok((o.ouTheta as number) >= 1e-8 && (o.ouSigma as number) >= 1e-8);
    assert.equal('actorLearningRate' in o, r.agent === 'ddpg');
    assert.equal('actorL2' in o, r.agent === 'ddpg');
    assert.equal('leakySlope' in o, r.agent === 'icnn');
    if (r.agent === 'icnn') {
      const s = o.leakySlope as number;
      assert.ok(s === 0 || (s >= 1e-3 && s <= 0.1), `leaky slope ${s}`);
      if (s === 0) seen.zeroSlope++;
    }
    const sameSample = runs.filter((x) => x.sample === r.sample);
    assert.equal(sameSample.length, 3);
    for (const x of sameSample) {
      assert.equal(x.rewardScale, r.rewardScale);
      assert.deepEqual([x.agentOptions.hidden, x.agentOptions.learningRate, x.agentOptions.ouSigma], [o.hidden, o.learningRate, o.ouSigma]);
    }
  }
  // 10^U(−10, −2) is below 1e-8 with probability 1/4, 10^U(−4, −1) below 1e-3 with probability 1/3.
  assert.ok(seen.zeroL2 > 0 && seen.zeroL2 < 150, `zero l2 in ${seen.zeroL2} of 150 runs`);
  assert.ok(seen.zeroSlope > 0 && seen.zeroSlope < 50, `zero leaky slope in ${seen.zeroSlope} of 50 samples`);
});

test("the paper spec draws batch norm as the authors' naf_bn ~ Bern(0.5) and icnn_bn ~ Bern(0.25), into each agent's batchNorm", () => {
  const runs = expandSweep(validateSweepSpec({ ...structuredClone(PAPER_SWEEP_SPEC), tasks: ['Reacher'], samples: 2000 }));
  const rate = (agent: string) => {
    const mine = runs.filter((r) => r.agent === agent);
    for (const r of mine) assert.equal(typeof r.agentOptions.batchNorm, 'boolean', `${agent} sample ${r.sample}`);
    return mine.filter((r) => r.agentOptions.batchNorm === true).length / mine.length;
  };
  // Within 4 binomial standard deviations of p over 2000 draws.
  assert.ok(Math.abs(rate('naf') - 0.5) < 4 * Math.sqrt(0.25 / 2000), `naf ${rate('naf')}`);
  assert.ok(Math.abs(rate('icnn') - 0.25) < 4 * Math.sqrt(0.1875 / 2000), `icnn ${rate('icnn')}`);
  for (const r of runs.filter((x) => x.agent === 'ddpg')) assert.ok(!('batchNorm' in r.agentOptions));
  for (const r of runs) assert.ok(!('nafBatchNorm' in r.agentOptions) && !('icnnBatchNorm' in r.agentOptions));
});

test("a parameter's option modifier names the agent option it sets; two parameters may not set one agent's option", () => {
  const base = { tasks: ['Pendulum'], agents: ['naf', 'icnn'], steps: 100 };
  const [naf, icnn] = expandSweep(validateSweepSpec({ ...base, parameters: {
    a: { value: 3, agents: ['naf'], option: 'batchSize' }, b: { value: 5, agents: ['icnn'], option: 'batchSize' },
  } }));
  assert.deepEqual([naf.agent, naf.agentOptions], ['naf', { batchSize: 3 }]);
  assert.deepEqual([icnn.agent, icnn.agentOptions], ['icnn', { batchSize: 5 }]);
  assert.throws(() => validateSweepSpec({ ...base, parameters: { a: { value: 3, option: 'batchSize' }, b: { value: 5, agents: ['icnn'], option: 'batchSize' } } }),
    /spec\.parameters\.b and spec\.parameters\.a both set icnn's option batchSize/);
  assert.throws(() => validateSweepSpec({ ...base, parameters: { batchSize: { value: 3 }, b: { value: 5, option: 'batchSize' } } }),
    /both set naf's option batchSize/);
  for (const bad of [7, 'hidden', 'rewardScale', 'a.b']) {
    assert.throws(() => validateSweepSpec({ ...base, parameters: { a: { value: 3, option: bad } } }), /spec\.parameters\.a\.option must be an agent option name/);
  }
});

test('more samples extend a sweep: the first runs keep their settings and keys; another search seed draws others', () => {
  const spec = (samples: number, searchSeed = 0) => validateSweepSpec({ ...structuredClone(PAPER_SWEEP_SPEC), tasks: ['Reacher'], samples, searchSeed });
  const eight = expandSweep(spec(8));
  assert.deepEqual(expandSweep(spec(50)).slice(0, eight.length), eight);
  const other = expandSweep(spec(8, 1));
  assert.equal(other.filter((r) => eight.some((e) => e.hash === r.hash)).length, 0);
});

test('a run key depends on every setting that changes the result, not on key order or the checkpoint interval', () => {
  const base = { task: 'Pendulum', agent: 'naf' as const, seed: 0, steps: 200, testInterval: 50, rewardScale: 0.1, agentOptions: { hidden: [8, 8], batchSize: 16 } };
  const key = runKey(base);
  assert.match(key, /^[0-9a-f]{12}$/);
  assert.equal(runKey({ ...base, agentOptions: { batchSize: 16, hidden: [8, 8] } }), key);
  assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }), '{"a":[{"c":3,"d":2}],"b":1}');
  for (const changed of [{ task: 'CartPoleContinuous' }, { agent: 'ddpg' as const }, { seed: 1 }, { steps: 201 }, { testInterval: 100 }, { rewardScale: 1 },
    { agentOptions: { hidden: [8, 9], batchSize: 16 } }]) {
    assert.notEqual(runKey({ ...base, ...changed }), key, JSON.stringify(changed));
  }
  const [run] = expandSweep(validateSweepSpec({ tasks: ['Pendulum'], agents: ['naf'], steps: 200, testInterval: 50, checkpointInterval: 100, parameters: {} }));
  const [again] = expandSweep(validateSweepSpec({ tasks: ['Pendulum'], agents: ['naf'], steps: 200, testInterval: 50, parameters: {} }));
  assert.equal(run.hash, again.hash);
});

test('a malformed spec gets one error naming the path of the bad field', () => {
  const ok = { tasks: ['Pendulum'], agents: ['naf'], steps: 100, parameters: { learningRate: { logUniform: [-4, -2] } } };
  const cases: [unknown, RegExp][] = [
    [[], /spec must be a JSON object, got "an array"/],
    [{ ...ok, sample: 3 }, /spec\.sample is not a known field/],
    [{ ...ok, tasks: ['Pendulum', 'Pendulm'] }, /spec\.tasks\[1\]: .*Pendulm/],
    [{ ...ok, agents: ['naf', 'sac'] }, /spec\.agents\[1\] must be one of ddpg, naf, icnn, got "sac"/],
    [{ ...ok, seeds: [0, -1] }, /spec\.seeds\[1\] must be a non-negative integer, got -1/],
    [{ ...ok, samples: 0 }, /spec\.samples must be a positive integer, got 0/],
    [{ ...ok, steps: undefined }, /spec\.steps must give the budget of Pendulum/],
    [{ ...ok, steps: { Reacher: 100 } }, /spec\.steps\.Reacher names a task that is not in spec\.tasks/],
    [{ ...ok, parameters: { ouTheta: { normal: [0.15, 'x'] } } }, /spec\.parameters\.ouTheta\.normal\[1\] must be a finite number, got "x"/],
    [{ ...ok, parameters: { ouTheta: { normal: [0.15, 0.1], gauss: 1 } } }, /spec\.parameters\.ouTheta must have exactly one of value, uniform/],
    [{ ...ok, parameters: { 'hidden.1': { int: [100, 'hidden.0'] }, 'hidden.0': { int: [100, 600] } } }, /spec\.parameters\.hidden\.1\.int\[1\] must be a finite number, got "hidden\.0"/],
    [{ ...ok, parameters: { 'hidden.0': { int: [100, 600] } } }, /spec\.parameters must give both hidden\.0 and hidden\.1/],
    [{ ...ok, parameters: { lr: { logUniform: [-1, -4] } } }, /spec\.parameters\.lr\.logUniform must be \[lo, hi\] with lo ≤ hi/],
    [{ ...ok, parameters: { x: { bernoulli: 2 } } }, /spec\.parameters\.x\.bernoulli must be a probability in \[0, 1\], got 2/],
    [{ ...ok, parameters: { seed: { value: 3 } } }, /spec\.parameters\.seed: a parameter is rewardScale/],
    [{ ...ok, parameters: { l2: { value: 0, agents: ['dqn'] } } }, /spec\.parameters\.l2\.agents\[0\] must be one of ddpg, naf, icnn/],
  ];
  for (const [spec, message] of cases) {
    assert.throws(() => validateSweepSpec(spec, 'my.json'), (e: Error) => {
      assert.equal(e.name, 'IcnnError');
      assert.match(e.message, /^my\.json: /);
      assert.match(e.message, message);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    }, JSON.stringify(spec));
  }
});

test('checkRun refuses a queued run whose settings are malformed or do not match its key', () => {
  const [run] = expandSweep(validateSweepSpec({ tasks: ['Pendulum'], agents: ['naf'], steps: 100, parameters: {} }));
  assert.deepEqual(checkRun(run), run);
  assert.throws(() => checkRun({ ...run, steps: 101 }), /sweep job: hash [0-9a-f]{12} does not match the run's settings/);
  assert.throws(() => checkRun({ ...run, agent: 'sac' }), /sweep job: agent must be one of ddpg, naf, icnn, got "sac"/);
  assert.throws(() => checkRun('x'), /sweep job: expected a run object/);
});
