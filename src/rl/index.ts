/**
 * icnn/rl: continuous-action reinforcement learning (§4.5, §5.4): environments, the DDPG / NAF / ICNN agents, replay,
 * exploration noise, the experiment runner and the paper's tables. Node only (MuJoCo model files, run directories).
 *
 * @module
 */
export * from './envs/index.js';
export { createAgent, AGENT_KINDS, BaseAgent, DDPGAgent, NAFAgent, ICNNAgent, ICNN_SOLVERS, INNER_ENGINES, INNER_STOP_RULES, actionEntropy } from './agents/index.js';
export type {
  AgentOptions, Agent, AgentKind, ActOptions, Transition, UpdateStats, CommonAgentOptions, DDPGOptions, NAFOptions, ICNNOptions, ICNNSolver,
  InnerEngine, InnerStopRule,
} from './agents/index.js';
export { NormalizedEnv, ActionScaling, ObservationScaling } from './agents/normalizedEnv.js';
export { ReplayBuffer } from './replay.js';
export type { Batch as ReplayBatch, ReplayState } from './replay.js';
export { OrnsteinUhlenbeckNoise, deriveSeed } from './noise.js';
export type { OrnsteinUhlenbeckOptions } from './noise.js';
export { runRl, testMetrics, writeLearningCurve, loadCheckpointAgent, PAPER_BUDGETS, RL_PROGRESS_MODES } from './runner.js';
export { valueGap } from './valueGap.js';
export type { ValueGap } from './valueGap.js';
export { compareTargetArgmax } from './targetArgmax.js';
export type { TargetArgmaxSetting } from './targetArgmax.js';
export type { RunRlOptions, RlResult, RlMetrics, RlTiming, RlProgress, RlProgressMode, TestPoint, EpisodeRecord } from './runner.js';
export { RL_PRESETS, PAPER_TABLE, PAPER_ICNN_OPTIONS, presetSettings } from './presets.js';
export type { RlPreset } from './presets.js';
export { writeDiagnosticsChart, diagnosticSeries, DIAGNOSTIC_LABELS } from './diagnosticsChart.js';
export { PAPER_RL_TABLES, formatRlTable, rlTableMarkdown, cellsFromResults, summarize } from './table.js';
export type { PaperStatistic, TableCell, SummaryStats } from './table.js';
