/** CLI output and argument parsing helpers: one place decides how results and errors look. */
import { ScanpayError } from '../core/errors.ts';

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

export function parseInteger(value: string, name: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(value)) throw new ScanpayError('BAD_ARGUMENT', `${name} must be a whole number`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ScanpayError('BAD_ARGUMENT', `${name} must be in [${min}, ${max}]`);
  return n;
}
