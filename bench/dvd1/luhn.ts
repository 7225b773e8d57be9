/**
 * Luhn helpers for the DVD-1 bench anchors and record generator: a PAN is valid when it is exactly
 * 16 ASCII digits whose Luhn sum is 0 mod 10. Not constant time; the WASM core has its own.
 */
export const PAN_LENGTH = 16;

const ASCII_ZERO = 0x30;

/** Luhn contribution of digit d at position i counted from the right (0 = check digit). */
function weigh(d: number, i: number): number {
  if (i % 2 === 0) return d;
  const doubled = d * 2;
  return doubled > 9 ? doubled - 9 : doubled;
}

/** True when pan is 16 ASCII digits with a valid Luhn check digit. */
export function isValidPan(pan: Uint8Array): boolean {
  if (pan.length !== PAN_LENGTH) return false;
  let sum = 0;
  for (let i = 0; i < PAN_LENGTH; i++) {
    const d = pan[PAN_LENGTH - 1 - i]! - ASCII_ZERO;
    if (d < 0 || d > 9) return false;
    sum += weigh(d, i);
  }
  return sum % 10 === 0;
}

/** The check digit (0-9) that makes `payload` (digit values, most significant first) Luhn-valid. */
export function luhnCheckDigit(payload: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    sum += weigh(payload[payload.length - 1 - i]!, i + 1);
  }
  return (10 - (sum % 10)) % 10;
}

/** ASCII bytes of digit values. */
export function asciiDigits(digits: readonly number[]): Uint8Array {
  return Uint8Array.from(digits, (d) => ASCII_ZERO + d);
}
