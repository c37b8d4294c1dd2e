/**
 * The tensor container (safetensors layout): exact round trips, the layout's invariants, refusal of damaged
 * buffers with one-line errors, the old formats (model format 1 still read, ICNNRL1 refused), and a cross-check
 * that PyTorch reads a saved model's weights file.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FICNN, IcnnError, loadModel } from '../helpers/icnn.js';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from '../../src/util/safetensors.js';
import { decodeStateFile, encodeStateFile } from '../../src/rl/agents/state.js';
import { Rng } from '../../src/util/random.js';
import { tempDirFor } from '../helpers/tmp.js';

function randomArrays(rng: Rng): NamedArray[] {
  const count = rng.int(5);
  return Array.from({ length: count }, (_, i) => {
    const shape = Array.from({ length: rng.int(4) }, () => rng.int(4));
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let k = 0; k < data.length; k++) data[k] = (rng.uniform() - 0.5) * 10 ** (rng.int(20) - 10);
    return { name: `t${i}.${rng.int(1000)}`, shape, data };
  });
}

function assertOneLineError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IcnnError, `expected an IcnnError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), `expected one line, got ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

/** A buffer with a hand-written header and `dataBytes` zero bytes of data. */
function withHeader(header: unknown, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  return out;
}

describe('safetensors codec', () => {
  test('round trips are exact, keep order, shapes and metadata (random arrays)', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 40; trial++) {
      const arrays = randomArrays(rng);
      const metadata: Record<string, string> = trial % 2 === 0 ? { kind: 'x', config: JSON.stringify({ a: trial }) } : {};
      const bytes = encodeSafetensors(arrays, metadata);
      const back = decodeSafetensors(bytes, 'test');
      assert.deepEqual(back.metadata, metadata);
      assert.deepEqual([...back.arrays.keys()], arrays.map((a) => a.name));
      for (const a of arrays) {
        const b = back.arrays.get(a.name)!;
        assert.deepEqual(b.shape, a.shape);
        assert.deepEqual(Array.from(b.data), Array.from(a.data));
      }
    }
  });

  test('the layout: u64 little-endian header length, 8-byte aligned data, offsets relative to the data', () => {
    const a = { name: 'w', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
    const b = { name: 'b', shape: [3], data: Float32Array.from([-1, 0.5, 7]) };
    const bytes = encodeSafetensors([a, b], { note: 'hi' });
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = view.getUint32(0, true);
    assert.equal(view.getUint32(4, true), 0);
    assert.equal(n % 8, 0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    assert.deepEqual(header.w, { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    assert.deepEqual(header.b, { dtype: 'F32', shape: [3], data_offsets: [24, 36] });
    assert.deepEqual(header.__metadata__, { note: 'hi' });
    assert.equal(bytes.length, 8 + n + 36);
    assert.equal(view.getFloat32(8 + n + 24 + 4, true), 0.5);
  });

  test('every truncation and any padding is refused', () => {
    const bytes = encodeSafetensors(randomArrays(new Rng(3)).concat([{ name: 'z', shape: [4], data: new Float32Array(4) }]));
    for (let cut = 0; cut < bytes.length; cut++) {
      assertOneLineError(() => decodeSafetensors(bytes.subarray(0, cut), 'f.bin'), /^f\.bin: .*(truncated|shorter|header)/);
    }
    const padded = new Uint8Array(bytes.length + 4);
    padded.set(bytes);
    assertOneLineError(() => decodeSafetensors(padded, 'f.bin'), /truncated or padded/);
  });

  test('malformed headers: bad JSON, wrong dtype, size mismatch, holes, overlaps, huge length', () => {
    assertOneLineError(() => decodeSafetensors(withHeader({}, 0).fill(0x7b, 8), 'h'), /not valid JSON/);
    assertOneLineError(() => decodeSafetensors(withHeader({ a: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, 8), 'h'), /dtype "F64"/);
    assertOneLineError(() => decodeSafetensors(withHeader({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), 'h'), /spans 8 bytes.*needs 12/);
    assertOneLineError(() => decodeSafetensors(withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), 'h'), /hole or an overlap/);
    const overlap = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } };
    assertOneLineError(() => decodeSafetensors(withHeader(overlap, 8), 'h'), /hole or an overlap/);
    assertOneLineError(() => decodeSafetensors(withHeader({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), 'h'), /malformed header entry/);
    assertOneLineError(() => decodeSafetensors(withHeader({ __metadata__: { a: 1 } }, 0), 'h'), /__metadata__/);
    const huge = withHeader({}, 0);
    new DataView(huge.buffer).setUint32(4, 1, true);
    assertOneLineError(() => decodeSafetensors(huge, 'h'), /header length 4294967298/);
  });

  test('a file of the former ICNNRL1 container gets a one-line "format changed" error', () => {
    const old = new Uint8Array(64);
    old.set(new TextEncoder().encode('ICNNRL1\n'));
    assertOneLineError(() => decodeSafetensors(old, 'ck.bin'), /^ck\.bin: written by an older icnn in its former ICNNRL1 format/);
  });
});

describe('RL state files', () => {
  test('round trip with metadata; a flipped data byte fails the sha256', () => {
    const arrays = new Map([['var/a', Float32Array.from([1, 2, 3])], ['replay/r', Float32Array.from([0.25])]]);
    const bytes = encodeStateFile({ format: 'icnn-rl-agent', counters: { updates: 3 } }, arrays);
    const back = decodeStateFile(bytes, 's');
    assert.deepEqual(back.meta, { format: 'icnn-rl-agent', counters: { updates: 3 } });
    assert.deepEqual([...back.arrays].map(([k, v]) => [k, Array.from(v)]), [['var/a', [1, 2, 3]], ['replay/r', [0.25]]]);
    const flipped = bytes.slice();
    flipped[flipped.length - 2] ^= 0x10;
    assertOneLineError(() => decodeStateFile(flipped, 's'), /sha256 \(corrupted file\)/);
    assertOneLineError(() => decodeStateFile(encodeSafetensors([]), 's'), /not an icnn state file/);
  });
});

describe('saved models', () => {
  test('a format-1 model directory (raw float32 weights) still loads, with the same parameters', async (t) => {
    const dir = tempDirFor(t);
    const model = new FICNN({ xDim: 2, yDim: 3, hidden: [5, 4], seed: 11 });
    await model.save(dir);
    const doc = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    const { arrays } = decodeSafetensors(readFileSync(path.join(dir, doc.weights.file)), 'test');
    const floats = new Float32Array([...arrays.values()].reduce((n, a) => n + a.data.length, 0));
    let at = 0;
    for (const entry of doc.weights.tensors) {
      entry.offset = at * 4;
      floats.set(arrays.get(entry.name)!.data, at);
      at += arrays.get(entry.name)!.data.length;
    }
    const raw = new Uint8Array(floats.buffer);
    const { createHash } = await import('node:crypto');
    doc.formatVersion = 1;
    doc.weights = { ...doc.weights, file: 'weights-old.bin', byteLength: raw.length, sha256: createHash('sha256').update(raw).digest('hex') };
    writeFileSync(path.join(dir, 'weights-old.bin'), raw);
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(doc));
    const loaded = await loadModel(dir);
    try {
      const want = new Map(model.parameters().map((p) => [p.name, Array.from(p.variable.dataSync())]));
      for (const p of loaded.parameters()) assert.deepEqual(Array.from(p.variable.dataSync()), want.get(p.name), p.name);
    } finally {
      model.dispose();
      loaded.dispose();
    }
  });

  const python = '/usr/bin/python3';
  const hasTorch = existsSync(python) && spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
  test('PyTorch reads a saved model\'s weights file (layout parsed with torch.frombuffer)', { skip: hasTorch ? false : 'no /usr/bin/python3 with torch' }, async (t) => {
    const dir = tempDirFor(t);
    const model = new FICNN({ xDim: 3, yDim: 2, hidden: [6, 4], seed: 5 });
    await model.save(dir);
    const doc = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    // What safetensors.torch.load_file does, in the layout's own terms (the safetensors package is not installed).
    const script = [
      'import json, struct, sys, torch',
      'raw = open(sys.argv[1], "rb").read()',
      'n = struct.unpack("<Q", raw[:8])[0]',
      'header = json.loads(raw[8:8 + n])',
      'meta = header.pop("__metadata__")',
      'data = bytearray(raw[8 + n:])',
      'out = {k: torch.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype=torch.float32).reshape(v["shape"]).tolist() for k, v in header.items()}',
      'print(json.dumps({"kind": meta["kind"], "config": json.loads(meta["config"]), "tensors": out}))',
    ].join('\n');
    const r = spawnSync(python, ['-c', script, path.join(dir, doc.weights.file)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const fromTorch = JSON.parse(r.stdout) as { kind: string; config: unknown; tensors: Record<string, unknown> };
    try {
      assert.equal(fromTorch.kind, 'FICNN');
      assert.deepEqual(fromTorch.config, JSON.parse(JSON.stringify(model.config)));
      assert.deepEqual(Object.keys(fromTorch.tensors).sort(), model.parameters().map((p) => p.name).sort());
      for (const p of model.parameters()) assert.deepEqual(fromTorch.tensors[p.name], await p.variable.array(), p.name);
    } finally {
      model.dispose();
    }
  });
});
