/** The paper's experiments by name, for `icnn reproduce <name>`. */
import type { Experiment } from './experiment.js';
import { fail } from '../util/errors.js';

const experiments = new Map<string, { run: Experiment; description: string }>();

export function registerExperiment(name: string, description: string, run: Experiment): void {
  experiments.set(name, { run, description });
}

export function experimentNames(): string[] {
  return [...experiments.keys()];
}

export function getExperiment(name: string): { run: Experiment; description: string } {
  const e = experiments.get(name);
  if (!e) fail(`reproduce: unknown experiment '${name}' (expected one of: ${experimentNames().join(', ')})`);
  return e;
}
