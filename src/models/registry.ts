/** Model kinds by name, so that a saved configuration can be rebuilt (filled in by each model's module). */
import type { EnergyModel, ModelKind } from './energyModel.js';
import { fail } from '../util/errors.js';

type Factory = (config: Record<string, unknown>) => EnergyModel;
const factories = new Map<string, Factory>();

export function registerModelKind(kind: ModelKind, factory: Factory): void {
  factories.set(kind, factory);
}

export function buildModel(kind: unknown, config: Record<string, unknown>, where: string): EnergyModel {
  const factory = typeof kind === 'string' ? factories.get(kind) : undefined;
  if (!factory) fail(`${where}: unknown model kind ${JSON.stringify(kind)} (expected one of: ${[...factories.keys()].join(', ')})`);
  return factory(config);
}
