/**
 * Poly1305 one-time authenticator (RFC 8439 §2.5), 26-bit limbs (the "donna-32" layout):
 * every product fits a u64, and the final reduction selects with masks, never with a branch.
 *
 * A context is POLY1305_CTX bytes: r0..r4, h0..h4, pad0..pad3 (u32 each).
 */
export const POLY1305_CTX: usize = 56;
const R: usize = 0;
const H: usize = 20;
const PAD: usize = 40;
const M26: u32 = 0x3ffffff;

const TAIL: usize = memory.data(16);

export function poly1305Init(ctx: usize, key: usize): void {
  store<u32>(ctx + R, load<u32>(key) & 0x3ffffff);
  store<u32>(ctx + R, (load<u32>(key, 3) >>> 2) & 0x3ffff03, 4);
  store<u32>(ctx + R, (load<u32>(key, 6) >>> 4) & 0x3ffc0ff, 8);
  store<u32>(ctx + R, (load<u32>(key, 9) >>> 6) & 0x3f03fff, 12);
  store<u32>(ctx + R, (load<u32>(key, 12) >>> 8) & 0x00fffff, 16);
  memory.fill(ctx + H, 0, 20);
  memory.copy(ctx + PAD, key + 16, 16);
}

/** Absorbs `len` bytes (a multiple of 16) as full blocks. */
export function poly1305Blocks(ctx: usize, m: usize, len: usize): void {
  const r0 = <u64>load<u32>(ctx + R), r1 = <u64>load<u32>(ctx + R, 4), r2 = <u64>load<u32>(ctx + R, 8);
  const r3 = <u64>load<u32>(ctx + R, 12), r4 = <u64>load<u32>(ctx + R, 16);
  const s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5;
  let h0 = load<u32>(ctx + H), h1 = load<u32>(ctx + H, 4), h2 = load<u32>(ctx + H, 8);
  let h3 = load<u32>(ctx + H, 12), h4 = load<u32>(ctx + H, 16);
  while (len >= 16) {
    h0 += load<u32>(m) & M26;
    h1 += (load<u32>(m, 3) >>> 2) & M26;
    h2 += (load<u32>(m, 6) >>> 4) & M26;
    h3 += (load<u32>(m, 9) >>> 6) & M26;
    h4 += (load<u32>(m, 12) >>> 8) | (1 << 24);
    const d0 = <u64>h0 * r0 + <u64>h1 * s4 + <u64>h2 * s3 + <u64>h3 * s2 + <u64>h4 * s1;
    let d1 = <u64>h0 * r1 + <u64>h1 * r0 + <u64>h2 * s4 + <u64>h3 * s3 + <u64>h4 * s2;
    let d2 = <u64>h0 * r2 + <u64>h1 * r1 + <u64>h2 * r0 + <u64>h3 * s4 + <u64>h4 * s3;
    let d3 = <u64>h0 * r3 + <u64>h1 * r2 + <u64>h2 * r1 + <u64>h3 * r0 + <u64>h4 * s4;
    let d4 = <u64>h0 * r4 + <u64>h1 * r3 + <u64>h2 * r2 + <u64>h3 * r1 + <u64>h4 * r0;
    h0 = <u32>d0 & M26; d1 += d0 >> 26;
    h1 = <u32>d1 & M26; d2 += d1 >> 26;
    h2 = <u32>d2 & M26; d3 += d2 >> 26;
    h3 = <u32>d3 & M26; d4 += d3 >> 26;
    h4 = <u32>d4 & M26;
    h0 += <u32>(d4 >> 26) * 5;
    h1 += h0 >>> 26; h0 &= M26;
    m += 16; len -= 16;
  }
  store<u32>(ctx + H, h0); store<u32>(ctx + H, h1, 4); store<u32>(ctx + H, h2, 8);
  store<u32>(ctx + H, h3, 12); store<u32>(ctx + H, h4, 16);
}

/** Absorbs `len` bytes zero-padded to a multiple of 16 (the AEAD padding of RFC 8439 §2.8). */
export function poly1305Padded(ctx: usize, m: usize, len: usize): void {
  const whole = len & ~<usize>15;
  poly1305Blocks(ctx, m, whole);
  const rest = len - whole;
  if (rest > 0) {
    memory.fill(TAIL, 0, 16);
    memory.copy(TAIL, m + whole, rest);
    poly1305Blocks(ctx, TAIL, 16);
    memory.fill(TAIL, 0, 16);
  }
}

/** Final reduction mod 2^130 − 5, adds the pad, writes the 16-byte tag and wipes the context. */
export function poly1305Finish(ctx: usize, tag: usize): void {
  let h0 = load<u32>(ctx + H), h1 = load<u32>(ctx + H, 4), h2 = load<u32>(ctx + H, 8);
  let h3 = load<u32>(ctx + H, 12), h4 = load<u32>(ctx + H, 16);
  let c: u32;
  c = h1 >>> 26; h1 &= M26; h2 += c;
  c = h2 >>> 26; h2 &= M26; h3 += c;
  c = h3 >>> 26; h3 &= M26; h4 += c;
  c = h4 >>> 26; h4 &= M26; h0 += c * 5;
  c = h0 >>> 26; h0 &= M26; h1 += c;
  // g = h + 5 − 2^130; keep g when it did not borrow (h ≥ p), chosen by mask.
  let g0 = h0 + 5; c = g0 >>> 26; g0 &= M26;
  let g1 = h1 + c; c = g1 >>> 26; g1 &= M26;
  let g2 = h2 + c; c = g2 >>> 26; g2 &= M26;
  let g3 = h3 + c; c = g3 >>> 26; g3 &= M26;
  let g4 = h4 + c - (1 << 26);
  const useG = (g4 >>> 31) - 1;
  const useH = ~useG;
  h0 = (h0 & useH) | (g0 & useG);
  h1 = (h1 & useH) | (g1 & useG);
  h2 = (h2 & useH) | (g2 & useG);
  h3 = (h3 & useH) | (g3 & useG);
  h4 = (h4 & useH) | (g4 & useG);
  // h mod 2^128, plus pad
  const w0 = h0 | (h1 << 26);
  const w1 = (h1 >>> 6) | (h2 << 20);
  const w2 = (h2 >>> 12) | (h3 << 14);
  const w3 = (h3 >>> 18) | (h4 << 8);
  let f = <u64>w0 + <u64>load<u32>(ctx + PAD);
  store<u32>(tag, <u32>f);
  f = <u64>w1 + <u64>load<u32>(ctx + PAD, 4) + (f >> 32);
  store<u32>(tag, <u32>f, 4);
  f = <u64>w2 + <u64>load<u32>(ctx + PAD, 8) + (f >> 32);
  store<u32>(tag, <u32>f, 8);
  f = <u64>w3 + <u64>load<u32>(ctx + PAD, 12) + (f >> 32);
  store<u32>(tag, <u32>f, 12);
  memory.fill(ctx, 0, POLY1305_CTX);
}
