/**
 * Classic-control tasks written from the Gym / Gymnasium equations (no physics engine, no files):
 *
 * - `Pendulum` (Pendulum-v1): g = 10, m = 1, l = 1, dt = 0.05, |θ̇| ≤ 8, |u| ≤ 2; θ = 0 is upright.
 *   θ̇' = clip(θ̇ + (3g/(2l)·sin θ + 3/(m l²)·u)·dt, ±8), θ' = θ + θ̇'·dt;
 *   reward = −(norm(θ)² + 0.1·θ̇² + 0.001·u²) on the state before the step; obs [cos θ, sin θ, θ̇]; never
 *   terminates; 200 steps; reset θ ~ U(−π, π), θ̇ ~ U(−1, 1).
 * - `MountainCarContinuous` (MountainCarContinuous-v0): v' = clip(v + 0.0015·a − 0.0025·cos 3p, ±0.07),
 *   p' = clip(p + v', [−1.2, 0.6]) (v' = 0 if p' hits −1.2 moving left); terminated when p' ≥ 0.45 and v' ≥ 0;
 *   reward = 100·[terminated] − 0.1·a²; 999 steps; reset p ~ U(−0.6, −0.4), v = 0.
 * - `CartPoleContinuous`: CartPole-v1's dynamics (Euler, τ = 0.02, cart 1 kg, pole 0.1 kg, half-length 0.5,
 *   g = 9.8) with force = 10·a, a ∈ [−1, 1], instead of ±10; reward 1 per step (also on the terminating step);
 *   terminated when |x| > 2.4 or |θ| > 12°; 500 steps; reset each state coordinate ~ U(−0.05, 0.05).
 *
 * Gym's `reward` uses the clipped action for Pendulum, the raw one for MountainCar; here every environment clips
 * the action first (see env.ts), so an out-of-range MountainCar action is charged at the bound.
 */
import { fail } from '../../util/errors.js';
import type { Rng } from '../../util/random.js';
import { BaseEnv, type TaskStep } from './env.js';

/** Options of the classic-control environments (Pendulum, MountainCarContinuous, CartPoleContinuous). */
export interface ClassicEnvOptions {
  /** The generator's seed until `reset(seed)` gives another (default 0). */
  seed?: number;
  /** Time limit (default: the task's Gym value). */
  maxEpisodeSteps?: number;
}

function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.uniform();
}

/** Python's `((x + π) % 2π) − π`: the angle in [−π, π). */
export function angleNormalize(x: number): number {
  const twoPi = 2 * Math.PI;
  let r = (x + Math.PI) % twoPi;
  if (r < 0) r += twoPi;
  return r - Math.PI;
}

/** State access shared by the classic tasks (for tests, planners and scripted controllers). */
abstract class ClassicEnv extends BaseEnv {
  protected abstract state: Float64Array;

  /** A copy of the physical state (task-specific layout, see each class). */
  getState(): Float64Array {
    this.checkOpen('getState');
    return this.state.slice();
  }

  /** Overwrite the physical state (the episode and its step count go on unchanged). */
  setState(state: ArrayLike<number>): void {
    this.checkOpen('setState');
    if (state.length !== this.state.length) fail(`${this.name}.setState: state must have length ${this.state.length}, got ${state.length}`);
    for (let i = 0; i < state.length; i++) {
      if (!Number.isFinite(state[i])) fail(`${this.name}.setState: state[${i}] must be finite, got ${state[i]}`);
    }
    this.state.set(state);
  }
}

/** Pendulum-v1. State [θ, θ̇]. */
export class PendulumEnv extends ClassicEnv {
  static readonly g = 10;
  static readonly m = 1;
  static readonly l = 1;
  static readonly dt = 0.05;
  static readonly maxSpeed = 8;
  static readonly maxTorque = 2;
  protected override state = new Float64Array(2);

  constructor(options: ClassicEnvOptions = {}) {
    super({
      name: 'Pendulum',
      actionLow: [-PendulumEnv.maxTorque],
      actionHigh: [PendulumEnv.maxTorque],
      observationLow: [-1, -1, -PendulumEnv.maxSpeed],
      observationHigh: [1, 1, PendulumEnv.maxSpeed],
      maxEpisodeSteps: options.maxEpisodeSteps ?? 200,
      seed: options.seed,
    });
  }

  protected resetTask(rng: Rng): Float64Array {
    this.state[0] = uniform(rng, -Math.PI, Math.PI);
    this.state[1] = uniform(rng, -1, 1);
    return this.observe();
  }

  protected stepTask(action: Float64Array): TaskStep {
    const { g, m, l, dt, maxSpeed } = PendulumEnv;
    const th = this.state[0];
    const thdot = this.state[1];
    const u = action[0];
    const th0 = angleNormalize(th);
    const cost = th0 * th0 + 0.1 * thdot * thdot + 0.001 * (u * u);
    let newthdot = thdot + ((3 * g) / (2 * l) * Math.sin(th) + (3.0 / (m * l * l)) * u) * dt;
    newthdot = Math.min(Math.max(newthdot, -maxSpeed), maxSpeed);
    this.state[0] = th + newthdot * dt;
    this.state[1] = newthdot;
    return { observation: this.observe(), reward: -cost, terminated: false };
  }

  private observe(): Float64Array {
    return Float64Array.of(Math.cos(this.state[0]), Math.sin(this.state[0]), this.state[1]);
  }
}

/** MountainCarContinuous-v0. State [position, velocity]; the observation is the state. */
export class MountainCarContinuousEnv extends ClassicEnv {
  static readonly minPosition = -1.2;
  static readonly maxPosition = 0.6;
  static readonly maxSpeed = 0.07;
  static readonly goalPosition = 0.45;
  static readonly goalVelocity = 0;
  static readonly power = 0.0015;
  protected override state = new Float64Array(2);

  constructor(options: ClassicEnvOptions = {}) {
    const C = MountainCarContinuousEnv;
    super({
      name: 'MountainCarContinuous',
      actionLow: [-1],
      actionHigh: [1],
      observationLow: [C.minPosition, -C.maxSpeed],
      observationHigh: [C.maxPosition, C.maxSpeed],
      maxEpisodeSteps: options.maxEpisodeSteps ?? 999,
      seed: options.seed,
    });
  }

  protected resetTask(rng: Rng): Float64Array {
    this.state[0] = uniform(rng, -0.6, -0.4);
    this.state[1] = 0;
    return this.state.slice();
  }

  protected stepTask(action: Float64Array): TaskStep {
    const C = MountainCarContinuousEnv;
    let position = this.state[0];
    let velocity = this.state[1];
    const force = action[0];
    velocity += force * C.power - 0.0025 * Math.cos(3 * position);
    if (velocity > C.maxSpeed) velocity = C.maxSpeed;
    if (velocity < -C.maxSpeed) velocity = -C.maxSpeed;
    position += velocity;
    if (position > C.maxPosition) position = C.maxPosition;
    if (position < C.minPosition) position = C.minPosition;
    if (position === C.minPosition && velocity < 0) velocity = 0;
    const terminated = position >= C.goalPosition && velocity >= C.goalVelocity;
    let reward = terminated ? 100.0 : 0;
    reward -= force * force * 0.1;
    this.state[0] = position;
    this.state[1] = velocity;
    return { observation: this.state.slice(), reward, terminated };
  }
}

/** CartPole-v1 dynamics with a continuous force 10·a. State [x, ẋ, θ, θ̇]; the observation is the state. */
export class CartPoleContinuousEnv extends ClassicEnv {
  static readonly gravity = 9.8;
  static readonly massCart = 1.0;
  static readonly massPole = 0.1;
  static readonly halfPoleLength = 0.5;
  static readonly forceMag = 10.0;
  static readonly tau = 0.02;
  static readonly thetaThreshold = (12 * 2 * Math.PI) / 360;
  static readonly xThreshold = 2.4;
  protected override state = new Float64Array(4);

  constructor(options: ClassicEnvOptions = {}) {
    const C = CartPoleContinuousEnv;
    super({
      name: 'CartPoleContinuous',
      actionLow: [-1],
      actionHigh: [1],
      observationLow: [-2 * C.xThreshold, -Infinity, -2 * C.thetaThreshold, -Infinity],
      observationHigh: [2 * C.xThreshold, Infinity, 2 * C.thetaThreshold, Infinity],
      maxEpisodeSteps: options.maxEpisodeSteps ?? 500,
      seed: options.seed,
    });
  }

  protected resetTask(rng: Rng): Float64Array {
    for (let i = 0; i < 4; i++) this.state[i] = uniform(rng, -0.05, 0.05);
    return this.state.slice();
  }

  protected stepTask(action: Float64Array): TaskStep {
    const C = CartPoleContinuousEnv;
    const totalMass = C.massPole + C.massCart;
    const poleMassLength = C.massPole * C.halfPoleLength;
    let [x, xDot, theta, thetaDot] = this.state;
    const force = C.forceMag * action[0];
    const costheta = Math.cos(theta);
    const sintheta = Math.sin(theta);
    const temp = (force + poleMassLength * thetaDot ** 2 * sintheta) / totalMass;
    const thetaAcc = (C.gravity * sintheta - costheta * temp) / (C.halfPoleLength * (4.0 / 3.0 - (C.massPole * costheta ** 2) / totalMass));
    const xAcc = temp - (poleMassLength * thetaAcc * costheta) / totalMass;
    x = x + C.tau * xDot;
    xDot = xDot + C.tau * xAcc;
    theta = theta + C.tau * thetaDot;
    thetaDot = thetaDot + C.tau * thetaAcc;
    this.state[0] = x;
    this.state[1] = xDot;
    this.state[2] = theta;
    this.state[3] = thetaDot;
    const terminated = x < -C.xThreshold || x > C.xThreshold || theta < -C.thetaThreshold || theta > C.thetaThreshold;
    return { observation: this.state.slice(), reward: 1.0, terminated };
  }
}
