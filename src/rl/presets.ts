/**
 * Named settings for `runRl` / `icnn rl --preset`. 'paper' is the authors' hand-tuned per-task table of
 * `RL/run-exp.py` (commit 4bfde42; reward scale `reward_k`, `l2norm`, NAF's `initstd` and `naf_bn`) with the
 * authors' ICNN inner loop (./agents/innerAdam.ts: their Adam update, adaptive batch stop, clipped entropy
 * gradient, cap 1000) and their minibatch of 256, on every task; a task the table does not list gets the defaults.
 * 'none' (the default) changes nothing. Explicit options (reward scale, agent options) override a preset.
 *
 * The library's option names: `reward_k` → rewardScale, `l2norm` → l2 (the weight of ½Σ‖θ‖² on the Q-function),
 * `initstd` → initStd, `naf_bn` → batchNorm. (ICNN's l2 is 0 in every row, which is the ICNN agent's default.)
 */
import type { AgentKind, AgentOptions } from './agents/index.js';
import { checkOneOf } from '../util/options.js';

/** Setting presets of `runRl`: 'none' (as given) or 'paper' (the authors' per-task settings). */
export const RL_PRESETS = ['none', 'paper'] as const;
/** One of `RL_PRESETS`. */
export type RlPreset = (typeof RL_PRESETS)[number];

interface PresetRow {
  rewardScale: number;
  options?: AgentOptions;
}

/** `RL/run-exp.py`'s `hyperparams` (the tasks it lists), per agent. */
export const PAPER_TABLE: Readonly<Record<string, Readonly<Record<AgentKind, PresetRow>>>> = Object.freeze({
  HalfCheetah: { ddpg: { rewardScale: 1, options: { l2: 0.01 } }, naf: { rewardScale: 0.1, options: { initStd: 0.007, batchNorm: true } }, icnn: { rewardScale: 0.4 } },
  Hopper: { ddpg: { rewardScale: 1, options: { l2: 0.001 } }, naf: { rewardScale: 0.3, options: { l2: 0.001 } }, icnn: { rewardScale: 0.01 } },
  InvertedPendulum: { ddpg: { rewardScale: 0.3 }, naf: { rewardScale: 0.2 }, icnn: { rewardScale: 0.3 } },
  InvertedDoublePendulum: { ddpg: { rewardScale: 0.03 }, naf: { rewardScale: 0.02 }, icnn: { rewardScale: 0.01 } },
  Reacher: { ddpg: { rewardScale: 1 }, naf: { rewardScale: 1 }, icnn: { rewardScale: 1 } },
  Swimmer: { ddpg: { rewardScale: 1 }, naf: { rewardScale: 1 }, icnn: { rewardScale: 1 } },
  Walker2d: { ddpg: { rewardScale: 0.1 }, naf: { rewardScale: 0.1 }, icnn: { rewardScale: 0.04 } },
  Ant: { ddpg: { rewardScale: 0.2 }, naf: { rewardScale: 0.3 }, icnn: { rewardScale: 1 } },
  Humanoid: { ddpg: { rewardScale: 0.03, options: { l2: 0.01 } }, naf: { rewardScale: 0.01 }, icnn: { rewardScale: 1 } },
  HumanoidStandup: { ddpg: { rewardScale: 1 }, naf: { rewardScale: 1 }, icnn: { rewardScale: 1 } },
});

/** The authors' ICNN agent (`icnn.py`, `agent.py`): their inner Adam with its stop, α 0.01, cap 1000, entropy weight 1, batch 256. */
export const PAPER_ICNN_OPTIONS: Readonly<AgentOptions> = Object.freeze({
  innerAdam: 'authors', innerStop: 'batch', entropyGradientClip: true, innerLearningRate: 0.01, actIterations: 1000, targetIterations: 1000,
  entropyWeight: 1, l2: 0, batchSize: 256,
});

/** The reward scale (when the preset sets one) and agent options of `preset` for `env` and `agent`. */
export function presetSettings(preset: unknown, env: string, agent: AgentKind): { rewardScale?: number; agentOptions: AgentOptions } {
  const name = checkOneOf('runRl', 'preset', preset ?? 'none', RL_PRESETS);
  if (name === 'none') return { agentOptions: {} };
  const row = PAPER_TABLE[env]?.[agent];
  return {
    ...(row ? { rewardScale: row.rewardScale } : {}),
    agentOptions: { ...(agent === 'icnn' ? PAPER_ICNN_OPTIONS : {}), ...(row?.options ?? {}) } as AgentOptions,
  };
}
