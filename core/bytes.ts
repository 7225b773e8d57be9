/** Input checks for the core's boundary: run once per call, before any byte enters WASM memory. */
import { ScanpayError } from './errors.ts';

/** Largest message, AAD, key or info the core accepts in one call. */
export const MAX_INPUT = 1 << 20;

export function abytes(value: unknown, name: string, length?: number, max = MAX_INPUT): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new ScanpayError('BAD_ARGUMENT', `${name} must be a Uint8Array`);
  if (length !== undefined && value.length !== length) {
    throw new ScanpayError('BAD_LENGTH', `${name} must be ${length} bytes, got ${value.length}`);
  }
  if (value.length > max) throw new ScanpayError('TOO_LARGE', `${name} is ${value.length} bytes, limit ${max}`);
  return value;
}

export function aint(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ScanpayError('BAD_ARGUMENT', `${name} must be an integer in [${min}, ${max}]`);
  }
  return value;
}

/** 16-byte alignment keeps the core's u64/v128 loads aligned. */
export function align16(n: number): number {
  return (n + 15) & ~15;
}
