/**
 * SHA-256 (FIPS 180-4 §6.2), incremental, over linear memory.
 *
 * A context is SHA256_CTX bytes the caller places anywhere in memory:
 *   [0, 32)   working state H0..H7 (u32, native order)
 *   [32, 96)  partial block buffer
 *   [96]      bytes held in the buffer (u32)
 *   [104]     total bytes absorbed (u64)
 * Lengths drive the only branches; message bytes never choose a branch or an address.
 */
export const SHA256_CTX: usize = 112;
const BUF: usize = 32;
const BUFLEN: usize = 96;
const TOTAL: usize = 104;

// FIPS 180-4 §4.2.2 round constants.
export const K: usize = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

// Message schedule scratch; wiped by wipeSha256Scratch().
const W: usize = memory.data(256);

// FIPS 180-4 §5.3.3 initial hash value.
export const IV: usize = memory.data<u32>([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

export function sha256Init(ctx: usize): void {
  memory.copy(ctx, IV, 32);
  store<u32>(ctx + BUFLEN, 0);
  store<u64>(ctx + TOTAL, 0);
}

/** One compression of the 64-byte block at `block` into the state at `state`. */
export function sha256Compress(state: usize, block: usize): void {
  for (let i: usize = 0; i < 16; i++) {
    store<u32>(W + (i << 2), bswap<u32>(load<u32>(block + (i << 2))));
  }
  for (let i: usize = 16; i < 64; i++) {
    const w15 = load<u32>(W + ((i - 15) << 2));
    const w2 = load<u32>(W + ((i - 2) << 2));
    const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
    const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
    store<u32>(W + (i << 2), load<u32>(W + ((i - 16) << 2)) + s0 + load<u32>(W + ((i - 7) << 2)) + s1);
  }
  let a = load<u32>(state), b = load<u32>(state, 4), c = load<u32>(state, 8), d = load<u32>(state, 12);
  let e = load<u32>(state, 16), f = load<u32>(state, 20), g = load<u32>(state, 24), h = load<u32>(state, 28);
  for (let i: usize = 0; i < 64; i++) {
    const t1 = h + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25)) + ((e & f) ^ (~e & g))
      + load<u32>(K + (i << 2)) + load<u32>(W + (i << 2));
    const t2 = (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g; g = f; f = e; e = d + t1;
    d = c; c = b; b = a; a = t1 + t2;
  }
  store<u32>(state, load<u32>(state) + a);
  store<u32>(state, load<u32>(state, 4) + b, 4);
  store<u32>(state, load<u32>(state, 8) + c, 8);
  store<u32>(state, load<u32>(state, 12) + d, 12);
  store<u32>(state, load<u32>(state, 16) + e, 16);
  store<u32>(state, load<u32>(state, 20) + f, 20);
  store<u32>(state, load<u32>(state, 24) + g, 24);
  store<u32>(state, load<u32>(state, 28) + h, 28);
}

export function sha256Update(ctx: usize, msg: usize, len: usize): void {
  let held = <usize>load<u32>(ctx + BUFLEN);
  store<u64>(ctx + TOTAL, load<u64>(ctx + TOTAL) + <u64>len);
  if (held > 0) {
    const take = min<usize>(64 - held, len);
    memory.copy(ctx + BUF + held, msg, take);
    held += take; msg += take; len -= take;
    if (held < 64) {
      store<u32>(ctx + BUFLEN, <u32>held);
      return;
    }
    sha256Compress(ctx, ctx + BUF);
    held = 0;
  }
  while (len >= 64) {
    sha256Compress(ctx, msg);
    msg += 64; len -= 64;
  }
  if (len > 0) memory.copy(ctx + BUF, msg, len);
  store<u32>(ctx + BUFLEN, <u32>len);
}

/** Pads, compresses the last block(s) and writes the 32-byte digest to `out`. Leaves the context spent. */
export function sha256Final(ctx: usize, out: usize): void {
  let held = <usize>load<u32>(ctx + BUFLEN);
  const bits = load<u64>(ctx + TOTAL) << 3;
  store<u8>(ctx + BUF + held, 0x80);
  held++;
  if (held > 56) {
    memory.fill(ctx + BUF + held, 0, 64 - held);
    sha256Compress(ctx, ctx + BUF);
    held = 0;
  }
  memory.fill(ctx + BUF + held, 0, 56 - held);
  store<u64>(ctx + BUF + 56, bswap<u64>(bits));
  sha256Compress(ctx, ctx + BUF);
  for (let i: usize = 0; i < 32; i += 4) store<u32>(out + i, bswap<u32>(load<u32>(ctx + i)));
}

export function sha256(msg: usize, len: usize, out: usize, ctx: usize): void {
  sha256Init(ctx);
  sha256Update(ctx, msg, len);
  sha256Final(ctx, out);
}

export function wipeSha256Scratch(): void {
  memory.fill(W, 0, 256);
}
