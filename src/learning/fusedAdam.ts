/**
 * fit's default optimizer: tfjs's Adam (ε inside the bias correction, the optimizer its checkpoints and seeded results
 * were made with), with each variable's step fused into one native pass (`IcnnAdamStep`, ../backend/nativeAdam.ts)
 * where that kernel is registered (the wasm backend with the native addon). The fused step does tfjs's float32
 * arithmetic in tfjs's order, so both paths give the same numbers; the state (slot variables, accBeta, iterations) is
 * tfjs's own, so checkpoints written by either path restore into the other.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ADAM_STEP_KERNEL, type AdamStepAttrs } from '../backend/nativeAdam.js';

type Slot = { originalName: string; variable: tf.Variable };
type Gradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

/** The private state of tfjs's AdamOptimizer (tfjs-core 4.22, adam_optimizer.ts) that the fused step updates. */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Slot[];
  accumulatedSecondMoment: Slot[];
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Gradients): void {
    const list = Array.isArray(variableGradients) ? variableGradients : null;
    const names = list ? list.map((g) => g.name) : Object.keys(variableGradients);
    const gradientOf = (name: string, i: number) => (list ? list[i].tensor : (variableGradients as Record<string, tf.Tensor>)[name]);
    const fused = tf.getKernel(ADAM_STEP_KERNEL, tf.getBackend()) !== undefined &&
      names.every((name, i) => { const g = gradientOf(name, i); return g == null || g.dtype === 'float32'; });
    if (!fused) {
      super.applyGradients(variableGradients);
      return;
    }
    const state = this as unknown as AdamState;
    tf.tidy(() => {
      const f = Math.fround;
      // tfjs's scalars: sub(1, accBeta) on float32 tensors, and the JS numbers β, 1 − β, ε, −lr as float32 tensors.
      const attrs: AdamStepAttrs = {
        beta1: f(this.beta1), oneMinusBeta1: f(1 - this.beta1), beta2: f(this.beta2), oneMinusBeta2: f(1 - this.beta2),
        biasCorrection1: f(1 - state.accBeta1.dataSync()[0]), biasCorrection2: f(1 - state.accBeta2.dataSync()[0]),
        epsilon: f(this.epsilon), negLearningRate: f(-this.learningRate),
      };
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        state.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        state.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const grad = gradientOf(name, i);
        if (grad == null) return;
        const m = state.accumulatedFirstMoment[i].variable;
        const v = state.accumulatedSecondMoment[i].variable;
        const [newValue, newM, newV] = tf.engine().runKernel(ADAM_STEP_KERNEL, { value, m, v, grad },
          attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        m.assign(newM);
        v.assign(newV);
        value.assign(newValue);
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}

/** fit's default optimizer: tfjs's Adam with this learning rate (β1 0.9, β2 0.999, ε the backend's, 1e-7). */
export function defaultAdam(learningRate: number): tf.AdamOptimizer {
  return new FusedAdamOptimizer(learningRate, 0.9, 0.999);
}
