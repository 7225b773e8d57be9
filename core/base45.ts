/**
 * Base45 (RFC 9285): two bytes as three characters of QR's alphanumeric set, a last odd byte as two.
 * Engine-neutral (the browser wallet needs it; the npm `base45` package is CommonJS and needs Node's Buffer).
 * `decodeBase45` is strict: a character outside the alphabet, a triple above 65535, a pair above 255 or a
 * length ≡ 1 (mod 3) gives null, so every text it accepts re-encodes to itself (one spelling per byte string).
 * @example
 *   const text = encodeBase45(new Uint8Array([0x41, 0x42])); // 'BB8' (RFC 9285 §4.3)
 *   const bytes = decodeBase45(text);                        // Uint8Array [0x41, 0x42]
 */

export const BASE45_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

const VALUE_OF = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE45_ALPHABET.length; i++) VALUE_OF[BASE45_ALPHABET.charCodeAt(i)] = i;

export function encodeBase45(bytes: Uint8Array): string {
  let text = '';
  let i = 0;
  for (; i + 1 < bytes.length; i += 2) {
    const n = (bytes[i]! << 8) | bytes[i + 1]!;
    text += BASE45_ALPHABET[n % 45]! + BASE45_ALPHABET[Math.floor(n / 45) % 45]! + BASE45_ALPHABET[Math.floor(n / 2025)]!;
  }
  if (i < bytes.length) text += BASE45_ALPHABET[bytes[i]! % 45]! + BASE45_ALPHABET[Math.floor(bytes[i]! / 45)]!;
  return text;
}

function valueAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c < 128 ? VALUE_OF[c]! : -1;
}

/** The bytes of canonical base45 text, or null when `text` is not canonical base45. */
export function decodeBase45(text: string): Uint8Array | null {
  const rest = text.length % 3;
  if (rest === 1) return null;
  const out = new Uint8Array(Math.floor(text.length / 3) * 2 + (rest === 2 ? 1 : 0));
  let o = 0;
  for (let i = 0; i < text.length; i += 3) {
    const c = valueAt(text, i);
    const d = valueAt(text, i + 1);
    if (c < 0 || d < 0) return null;
    if (i + 2 < text.length) {
      const e = valueAt(text, i + 2);
      if (e < 0) return null;
      const n = c + d * 45 + e * 2025;
      if (n > 0xffff) return null;
      out[o++] = n >>> 8;
      out[o++] = n & 0xff;
    } else {
      const n = c + d * 45;
      if (n > 0xff) return null;
      out[o++] = n;
    }
  }
  return out;
}
