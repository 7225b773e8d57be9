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

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration from a command-line value: a whole number and a unit (`90s`, `15m`, `24h`, `7d`, `500ms`), or `0`;
 * in [minMs, maxMs]. Anything else is bad usage.
 */
export function parseDuration(value: string, name: string, minMs: number, maxMs: number): number {
  const match = /^([0-9]{1,9})(ms|s|m|h|d)?$/.exec(value);
  if (!match || (match[2] === undefined && match[1] !== '0')) {
    throw usageError(`${name} must be a whole number with a unit, e.g. 90s, 15m, 24h, 7d (got ${JSON.stringify(value.slice(0, 40))})`);
  }
  const ms = Number(match[1]) * DURATION_UNITS[match[2] ?? 'ms'];
  if (ms < minMs || ms > maxMs) throw usageError(`${name} must be from ${showDuration(minMs)} to ${showDuration(maxMs)}`);
  return ms;
}

/** A duration as parseDuration reads it, in its largest whole unit (`7d`, `36h`, `0`). */
export function showDuration(ms: number): string {
  if (ms === 0) return '0';
  for (const unit of ['d', 'h', 'm', 's'] as const) if (ms % DURATION_UNITS[unit] === 0) return `${ms / DURATION_UNITS[unit]}${unit}`;
  return `${ms}ms`;
}
