/** CLI output and argument parsing helpers: one place decides how results look and how values are checked. */
import type { Command } from 'commander';
import { usageError } from './errors.ts';

export interface Output {
  line(text: string): void;
  json(value: unknown): void;
  error(text: string): void;
}

export const consoleOutput: Output = {
  line: (text) => process.stdout.write(`${text}\n`),
  json: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  error: (text) => process.stderr.write(`${text}\n`),
};

/** Adds `--json` to a command that prints; every such command takes it. */
export function withJson(cmd: Command, what = 'print JSON'): Command {
  return cmd.option('--json', what);
}

function lowerBound(name: string, min: number): string {
  if (min === 1) return `${name} must be positive (≥ 1)`;
  return `${name} must be ≥ ${min}`;
}

/**
 * A whole number in [min, max] from a command-line value; anything else is bad usage, with a message
 * that says which bound was missed (`--amount -5` → "must be positive (≥ 1)").
 */
export function parseInteger(value: string, name: string, min: number, max: number, why = ''): number {
  if (!/^-?[0-9]+$/.test(value)) throw usageError(`${name} must be a whole number, got ${JSON.stringify(value.slice(0, 40))}`);
  const n = Number(value);
  if (n < min) throw usageError(`${lowerBound(name, min)}${why}`);
  if (!Number.isSafeInteger(n) || n > max) throw usageError(`${name} must be at most ${max}`);
  return n;
}
