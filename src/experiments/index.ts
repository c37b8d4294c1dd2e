/** The paper's experiments (importing this module registers them for `icnn reproduce`). */
import './synthetic.js';
import './bibtex.js';
import './olivetti.js';
export { getExperiment, experimentNames, registerExperiment } from './registry.js';
export { writeReport, markdownTable } from './experiment.js';
export type { Experiment, ExperimentContext, ExperimentReport } from './experiment.js';
