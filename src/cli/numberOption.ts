/**
 * The command line's number parser for commander options, on the strict rules of ../util/numbers.ts (kept apart from
 * them so that the library core does not import commander).
 */
import { InvalidArgumentError } from 'commander';
import { DECIMAL, describeRule, numberViolation, type NumberRule } from '../util/numbers.js';

/** A commander argument parser for `rule`; commander prefixes the message with the option's name. */
export function numberOption(rule: NumberRule): (text: string) => number {
  return (text: string) => {
    const t = text.trim();
    const n = DECIMAL.test(t) ? Number(t) : NaN;
    const why = DECIMAL.test(t) ? numberViolation(n, rule) : 'not a decimal number';
    if (why !== null) throw new InvalidArgumentError(`expected ${describeRule(rule)} (${why}).`);
    return n;
  };
}
