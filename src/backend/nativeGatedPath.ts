/**
 * `IcnnGatedPath`: f(x, y) and ∇_y f of a PICNN's z-path at fixed x (../models/gatedPath.ts, §1.2) for a batch of
 * rows as one native call on the wasm heap (native/src/gated_path.cc). An inner argmin over y evaluates this tens of
 * times per solve; through tfjs ops each evaluation is about forty kernel calls, whose dispatch cost more than their
 * arithmetic at the ICNN agent's sizes (bench/rl.ts). Registered with the other native kernels, so it exists only
 * where the addon loaded; `gatedPathKernelActive` says whether it can run now, and ../inference/oracle.ts falls back
 * to the tfjs ops elsewhere.
 *
 * Inputs: `y` [rows, d] and, per layer i, `yGate{i}`, `passthrough{i}`, `uTerm{i}` and (i ≥ 1) `zGate{i}`,
 * `convex{i}`, as `GatedLayer` names them. Attributes: `layers`, `negativeSlope`, `strongConvexity`, `withGrad`.
 * Outputs: energy [rows] and, with `withGrad`, ∇_y f [rows, d].
 *
 * `IcnnGatedPathVjp` is its reverse pass: the same inputs plus `dEnergy` [rows], and as outputs the gradients of
 * Σ_r dEnergy_r f_r with respect to every input, in the inputs' order. `gatedPathEnergy` pairs the two under
 * tf.customGrad, so that a tape (a training step: ∇_θ of a loss of f) sees the z-path as one node instead of about a
 * hundred kernel calls forward and backward.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './nativeAddon.js';
import { heapOffset, type KernelFunc, type WasmBackend } from './nativeMatMul.js';
import type { GatedPath } from '../models/gatedPath.js';

export const GATED_PATH_KERNEL = 'IcnnGatedPath';
export const GATED_PATH_VJP_KERNEL = 'IcnnGatedPathVjp';

/** Per layer, the inputs the kernels take, in the order of the addon's offsets. */
const LAYER_INPUTS = ['yGate', 'passthrough', 'uTerm', 'zGate', 'convex'] as const;

interface GatedPathAttrs {
  layers: number;
  negativeSlope: number;
  strongConvexity: number;
  withGrad: boolean;
}

/** What both kernel functions read from their arguments; `at` gives a tensor's heap offset (−1: absent). */
function readCall(args: Parameters<KernelFunc>[0]) {
  const inputs = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const backend = args.backend as WasmBackend;
  const attrs = args.attrs as unknown as GatedPathAttrs;
  const y = inputs.y as tf.TensorInfo;
  const [rows, d] = y.shape;
  const widths = Array.from({ length: attrs.layers }, (_, i) => (inputs[`uTerm${i}`] as tf.TensorInfo).shape[1]);
  // Offsets and the heap buffer are read after the outputs are allocated: an allocation may grow (and detach) the heap.
  const at = (t: tf.TensorInfo | null | undefined) => (t == null ? -1 : heapOffset(backend, t));
  const heap = () => backend.wasm.HEAPU8.buffer as ArrayBuffer;
  return { inputs, backend, attrs, y, rows, d, dims: Int32Array.from([rows, d, attrs.layers, ...widths]), at, heap };
}

/** The kernel function over `addon`. */
export function nativeGatedPath(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs, y, rows, d, dims, at, heap } = readCall(args);
    const energy = backend.makeOutput([rows], 'float32');
    const grad = attrs.withGrad ? backend.makeOutput([rows, d], 'float32') : null;
    const offsets = [at(y), at(energy), at(grad)];
    for (let i = 0; i < attrs.layers; i++) {
      for (const name of LAYER_INPUTS) offsets.push(at(inputs[`${name}${i}`]));
    }
    addon.gatedPath(heap(), Float64Array.from(offsets), dims, attrs.negativeSlope, attrs.strongConvexity);
    return (grad === null ? [energy] : [energy, grad]) as unknown as tf.TensorInfo;
  };
}

/** The reverse-pass kernel function over `addon`: one output per input but `dEnergy`, of its shape, in input order. */
export function nativeGatedPathVjp(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs, y, dims, at, heap } = readCall(args);
    const names = Object.keys(inputs).filter((name) => name !== 'dEnergy' && inputs[name] != null);
    const grads = new Map(names.map((name) => [name, backend.makeOutput((inputs[name] as tf.TensorInfo).shape, 'float32')]));
    const offsets = [at(y), at(inputs.dEnergy), at(grads.get('y'))];
    for (let i = 0; i < attrs.layers; i++) {
      for (const name of LAYER_INPUTS) offsets.push(at(inputs[`${name}${i}`]));
      for (const name of LAYER_INPUTS) offsets.push(at(grads.get(`${name}${i}`)));
    }
    addon.gatedPathVjp(heap(), Float64Array.from(offsets), dims, attrs.negativeSlope, attrs.strongConvexity);
    return [...grads.values()] as unknown as tf.TensorInfo;
  };
}

/** Whether the kernel can run now: registered (the addon loaded) and its backend, wasm, active. */
export function gatedPathKernelActive(): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel(GATED_PATH_KERNEL, 'wasm') !== undefined;
}

/** The path's shapes as the kernel needs them: float32, one row per y row (no broadcast rows), last width 1. */
export function gatedPathFitsKernel(path: GatedPath, rows: number): boolean {
  const layers = path.layers;
  return layers.length > 0 && layers[layers.length - 1].uTerm.shape[1] === 1 && layers.every((l, i) =>
    [l.yGate, l.passthrough, l.uTerm, l.zGate, l.convex].every((t) => t === null || t.dtype === 'float32') &&
    l.yGate.shape[0] === rows && l.uTerm.shape[0] === rows && (l.zGate === null || l.zGate.shape[0] === rows) &&
    (i === 0) === (l.convex === null) && (l.zGate === null) === (l.convex === null));
}

/** The kernels' named inputs for a path at y (y first, then layer by layer as LAYER_INPUTS). */
function kernelInputs(path: GatedPath, y: tf.Tensor2D): Record<string, tf.Tensor> {
  const inputs: Record<string, tf.Tensor> = { y };
  path.layers.forEach((l, i) => {
    inputs[`yGate${i}`] = l.yGate;
    inputs[`passthrough${i}`] = l.passthrough;
    inputs[`uTerm${i}`] = l.uTerm;
    if (l.zGate !== null && l.convex !== null) {
      inputs[`zGate${i}`] = l.zGate;
      inputs[`convex${i}`] = l.convex;
    }
  });
  return inputs;
}

function kernelAttrs(path: GatedPath, withGrad: boolean): tf.NamedAttrMap {
  return { layers: path.layers.length, negativeSlope: path.negativeSlope, strongConvexity: path.strongConvexity, withGrad } as unknown as tf.NamedAttrMap;
}

function runKernel(name: string, inputs: Record<string, tf.Tensor>, attrs: tf.NamedAttrMap): tf.Tensor[] {
  return tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs) as unknown as tf.Tensor[];
}

/**
 * f(x, y) per row of the path `makePath` gives through the kernels where they can serve it, else null: the kernels are active, the shapes
 * fit, and no more than one tape records (the reverse kernel has no gradient of its own, so second-order gradients,
 * whose inner tape runs at depth 2, take the tfjs ops).
 */
export function fusedGatedPathEnergy(makePath: () => GatedPath | null, y: tf.Tensor2D): tf.Tensor1D | null {
  if (!gatedPathKernelActive() || tf.engine().state.gradientDepth > 1) return null;
  const path = makePath();
  return path !== null && gatedPathFitsKernel(path, y.shape[0]) ? gatedPathEnergy(path, y) : null;
}

/**
 * f(x, y) per row through the kernel, differentiable in y and in every tensor of the path (its reverse pass is
 * `IcnnGatedPathVjp`); the caller checked `gatedPathKernelActive` and the shapes. Its gradient is not itself
 * differentiable: inside a nested tape (second-order gradients) use the tfjs ops.
 */
export function gatedPathEnergy(path: GatedPath, y: tf.Tensor2D): tf.Tensor1D {
  const inputs = kernelInputs(path, y);
  const names = Object.keys(inputs);
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    // Kept for the reverse pass: tfjs may dispose the forward's tensors (a context among them) before it runs.
    save(args.slice(0, -1) as tf.Tensor[]);
    return {
      value: runKernel(GATED_PATH_KERNEL, inputs, kernelAttrs(path, false))[0],
      gradFunc: (dEnergy: tf.Tensor, saved: tf.Tensor[]) => {
        const kept: Record<string, tf.Tensor> = Object.fromEntries(names.map((name, i) => [name, saved[i]]));
        return runKernel(GATED_PATH_VJP_KERNEL, { ...kept, dEnergy }, kernelAttrs(path, false));
      },
    };
  });
  return run(...Object.values(inputs)) as tf.Tensor1D;
}

/** The addon's gatedPath while the addon is on (set by ./nativeKernels.ts), for `GatedPathEvaluator`. */
let directCall: NativeAddon['gatedPath'] | null = null;

export function setDirectGatedPath(call: NativeAddon['gatedPath'] | null): void {
  directCall = call;
}

/**
 * Repeated evaluations of one path at new y (an inner solve: tens of calls on the same x) as one addon call each,
 * with no tfjs in between: y, the energies and ∇_y f live in three tensors allocated once, written and read through
 * views of the wasm heap, and the path's heap offsets are computed once. Through the tfjs kernel each evaluation also
 * created a tensor, dispatched a kernel and read two results back: about as long as the kernel's arithmetic at the
 * ICNN agent's sizes (tf.profile and a CPU profile of bench/rl.ts, 2026-12-07). Same call, same floats. The path's
 * tensors must stay alive while the evaluator is used; `dispose` frees its own three.
 */
export class GatedPathEvaluator {
  private readonly y: tf.Tensor;
  private readonly energy: tf.Tensor;
  private readonly grad: tf.Tensor;
  private readonly offsets: Float64Array;
  private readonly energyOnly: Float64Array;
  private readonly dims: Int32Array;

  constructor(private readonly backend: WasmBackend, private readonly call: NativeAddon['gatedPath'], private readonly path: GatedPath,
    private readonly rows: number, private readonly d: number) {
    // Kept: an evaluator made inside a tidy outlives it (as the oracle's path tensors do).
    [this.y, this.energy, this.grad] = [tf.keep(tf.zeros([rows, d])), tf.keep(tf.zeros([rows])), tf.keep(tf.zeros([rows, d]))];
    const at = (t: tf.Tensor | null) => (t === null ? -1 : heapOffset(backend, t));
    const layerOffsets = path.layers.flatMap((l) => [at(l.yGate), at(l.passthrough), at(l.uTerm), at(l.zGate), at(l.convex)]);
    this.offsets = Float64Array.from([at(this.y), at(this.energy), at(this.grad), ...layerOffsets]);
    this.energyOnly = Float64Array.from([at(this.y), at(this.energy), -1, ...layerOffsets]);
    this.dims = Int32Array.from([rows, d, path.layers.length, ...path.layers.map((l) => l.uTerm.shape[1])]);
  }

  /** f at the rows of y [rows·d] and, with `withGrad`, ∇_y f (row-major). */
  evaluate(y: Float64Array, withGrad: boolean): { energy: Float64Array; grad: Float64Array | null } {
    // The heap's buffer is fetched per call: an allocation elsewhere may have grown (and detached) it.
    const heap = this.backend.wasm.HEAPU8.buffer as ArrayBuffer;
    const size = this.rows * this.d;
    new Float32Array(heap, this.offsets[0], size).set(y);
    this.call(heap, withGrad ? this.offsets : this.energyOnly, this.dims, this.path.negativeSlope, this.path.strongConvexity);
    return {
      energy: Float64Array.from(new Float32Array(heap, this.offsets[1], this.rows)),
      grad: withGrad ? Float64Array.from(new Float32Array(heap, this.offsets[2], size)) : null,
    };
  }

  dispose(): void {
    tf.dispose([this.y, this.energy, this.grad]);
  }
}

/** An evaluator for `path` at `rows` rows of y, or null where the addon is off or another backend is active. */
export function gatedPathEvaluator(path: GatedPath, rows: number, d: number): GatedPathEvaluator | null {
  if (directCall === null || !gatedPathKernelActive()) return null;
  return new GatedPathEvaluator(tf.backend() as unknown as WasmBackend, directCall, path, rows, d);
}
