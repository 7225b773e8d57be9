/**
 * Card numbers (PANs): drawing a fresh Luhn-valid PAN under a BIN, and masking one for display and logs.
 * @example
 *   const pan = drawPan('400000');      // e.g. "4000001234567893"
 *   maskPan(pan)                        // "•••• •••• •••• 7893"
 */
import { randomInt } from 'node:crypto';
import { ScanpayError } from '../core/errors.ts';

export const PAN_LENGTH = 16;
const BIN_PATTERN = /^[0-9]{6,8}$/;

/** The check digit that makes `body` ‖ digit pass Luhn (ISO/IEC 7812-1 Annex B). */
export function luhnCheckDigit(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = body.charCodeAt(body.length - 1 - i) - 48;
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2; // doubled: these sit next to the check digit
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** True when `digits` is all decimal digits (at least 2) and passes Luhn. Not constant time: for tooling and the baseline. */
export function luhnValid(digits: string): boolean {
  return /^[0-9]{2,}$/.test(digits) && luhnCheckDigit(digits.slice(0, -1)) === digits.charCodeAt(digits.length - 1) - 48;
}

export function assertBin(bin: string): string {
  if (!BIN_PATTERN.test(bin)) throw new ScanpayError('BAD_ARGUMENT', 'BIN must be 6 to 8 digits');
  return bin;
}

/** A random 16-digit PAN under `bin` with a valid check digit (account digits from the CSPRNG). */
export function drawPan(bin: string): string {
  assertBin(bin);
  let body = bin;
  while (body.length < PAN_LENGTH - 1) body += String(randomInt(10));
  return body + String(luhnCheckDigit(body));
}

/** Only the last 4 digits survive: the one form of a PAN allowed in logs, errors and pages. */
export function maskPan(pan: string): string {
  return `•••• •••• •••• ${pan.slice(-4)}`;
}

export function isPanShaped(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9]{16}$/.test(value);
}
