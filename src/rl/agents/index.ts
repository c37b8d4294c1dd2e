/** The continuous-control agents of §5.4: DDPG, NAF and ICNN Q-learning (Algorithm 3), behind one interface. */
import { fail } from '../../util/errors.js';
import { AGENT_KINDS, type Agent, type AgentKind } from './agent.js';
import { DDPGAgent, type DDPGOptions } from './ddpg.js';
import { ICNNAgent, type ICNNOptions } from './icnn.js';
import { NAFAgent, type NAFOptions } from './naf.js';

export { AGENT_KINDS, BaseAgent, COMMON_OPTION_KEYS } from './agent.js';
export type { Agent, AgentKind, ActOptions, Transition, UpdateStats, CommonAgentOptions, ResolvedCommonOptions } from './agent.js';
export { DDPGAgent } from './ddpg.js';
export type { DDPGOptions, ResolvedDDPGOptions } from './ddpg.js';
export { NAFAgent } from './naf.js';
export type { NAFOptions, ResolvedNAFOptions } from './naf.js';
export { ICNNAgent, ICNN_SOLVERS, INNER_ENGINES, actionEntropy } from './icnn.js';
export type { ICNNOptions, ResolvedICNNOptions, ICNNSolver, InnerEngine, InnerSolution } from './icnn.js';
export { LayerOracle } from './layerOracle.js';
export { innerAdam, CompactingOracle, INNER_STOP_RULES } from './innerAdam.js';
export type { InnerAdamOptions, InnerAdamResult, InnerStopRule, RowOracle } from './innerAdam.js';
export { ActionCache } from './actionCache.js';
export { FlatParams } from './flatParams.js';
export { NafBatchNorm } from './nafBatchNorm.js';
export { NormalizedEnv, ActionScaling, ObservationScaling } from './normalizedEnv.js';
export { softUpdate, cloneVariables, l2Loss, Dense, Mlp } from './nets.js';
export type { NamedVariable, DenseInit } from './nets.js';

/** Options of any agent: DDPG's, NAF's or the ICNN agent's. */
export type AgentOptions = DDPGOptions | NAFOptions | ICNNOptions;

/** Build an agent by kind for observations of `observationSize` and actions of `actionSize` (in [−1, 1]). */
export function createAgent(kind: AgentKind, observationSize: number, actionSize: number, options: AgentOptions = {}): Agent {
  switch (kind) {
    case 'ddpg':
      return new DDPGAgent(observationSize, actionSize, options as DDPGOptions);
    case 'naf':
      return new NAFAgent(observationSize, actionSize, options as NAFOptions);
    case 'icnn':
      return new ICNNAgent(observationSize, actionSize, options as ICNNOptions);
    default:
      return fail(`createAgent: unknown agent '${String(kind)}' (expected one of: ${AGENT_KINDS.join(', ')})`);
  }
}
