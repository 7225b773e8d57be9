/**
 * SHA-512 (FIPS 180-4 §6.4), incremental, over linear memory.
 *
 * A context is SHA512_CTX bytes the caller places anywhere in memory:
 *   [0, 64)    working state H0..H7 (u64, native order)
 *   [64, 192)  partial block buffer
 *   [192]      bytes held in the buffer (u32)
 *   [200]      total bytes absorbed (u64)
 * Limits: a message is at most 2^61 − 1 bytes (the 128-bit length field's upper half is always zero
 * here, far above any linear memory). Lengths drive the only branches; message bytes never choose a
 * branch or an address. Ed25519 hashes R ‖ A ‖ M through sha512Update calls, so M is read in place.
 */
export const SHA512_CTX: usize = 208;
const BUF: usize = 64;
const BUFLEN: usize = 192;
const TOTAL: usize = 200;

// FIPS 180-4 §4.2.3 round constants.
const K: usize = memory.data<u64>([
  0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc, 0x3956c25bf348b538, 0x59f111f1b605d019,
  0x923f82a4af194f9b, 0xab1c5ed5da6d8118, 0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
  0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694, 0xe49b69c19ef14ad2, 0xefbe4786384f25e3,
  0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65, 0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
  0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4, 0xc6e00bf33da88fc2, 0xd5a79147930aa725,
  0x06ca6351e003826f, 0x142929670a0e6e70, 0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
  0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b, 0xa2bfe8a14cf10364, 0xa81a664bbc423001,
  0xc24b8b70d0f89791, 0xc76c51a30654be30, 0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
  0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8, 0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb,
  0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3, 0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
  0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b, 0xca273eceea26619c, 0xd186b8c721c0c207,
  0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178, 0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
  0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c, 0x4cc5d4becb3e42b6, 0x597f299cfc657e2a,
  0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
]);

// FIPS 180-4 §5.3.5 initial hash value.
const IV: usize = memory.data<u64>([
  0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
  0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
]);

// Message schedule scratch; wiped by wipeSha512Scratch().
const W: usize = memory.data(80 * 8);

export function sha512Init(ctx: usize): void {
  memory.copy(ctx, IV, 64);
  store<u32>(ctx + BUFLEN, 0);
  store<u64>(ctx + TOTAL, 0);
}

/** One compression of the 128-byte block at `block` into the state at `state`. */
function sha512Compress(state: usize, block: usize): void {
  for (let i: usize = 0; i < 16; i++) {
    store<u64>(W + (i << 3), bswap<u64>(load<u64>(block + (i << 3))));
  }
  for (let i: usize = 16; i < 80; i++) {
    const w15 = load<u64>(W + ((i - 15) << 3));
    const w2 = load<u64>(W + ((i - 2) << 3));
    const s0 = rotr<u64>(w15, 1) ^ rotr<u64>(w15, 8) ^ (w15 >>> 7);
    const s1 = rotr<u64>(w2, 19) ^ rotr<u64>(w2, 61) ^ (w2 >>> 6);
    store<u64>(W + (i << 3), load<u64>(W + ((i - 16) << 3)) + s0 + load<u64>(W + ((i - 7) << 3)) + s1);
  }
  let a = load<u64>(state), b = load<u64>(state, 8), c = load<u64>(state, 16), d = load<u64>(state, 24);
  let e = load<u64>(state, 32), f = load<u64>(state, 40), g = load<u64>(state, 48), h = load<u64>(state, 56);
  for (let i: usize = 0; i < 80; i++) {
    const t1 = h + (rotr<u64>(e, 14) ^ rotr<u64>(e, 18) ^ rotr<u64>(e, 41)) + ((e & f) ^ (~e & g))
      + load<u64>(K + (i << 3)) + load<u64>(W + (i << 3));
    const t2 = (rotr<u64>(a, 28) ^ rotr<u64>(a, 34) ^ rotr<u64>(a, 39)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g; g = f; f = e; e = d + t1;
    d = c; c = b; b = a; a = t1 + t2;
  }
  store<u64>(state, load<u64>(state) + a);
  store<u64>(state, load<u64>(state, 8) + b, 8);
  store<u64>(state, load<u64>(state, 16) + c, 16);
  store<u64>(state, load<u64>(state, 24) + d, 24);
  store<u64>(state, load<u64>(state, 32) + e, 32);
  store<u64>(state, load<u64>(state, 40) + f, 40);
  store<u64>(state, load<u64>(state, 48) + g, 48);
  store<u64>(state, load<u64>(state, 56) + h, 56);
}

export function sha512Update(ctx: usize, msg: usize, len: usize): void {
  let held = <usize>load<u32>(ctx + BUFLEN);
  store<u64>(ctx + TOTAL, load<u64>(ctx + TOTAL) + <u64>len);
  if (held > 0) {
    const take = min<usize>(128 - held, len);
    memory.copy(ctx + BUF + held, msg, take);
    held += take; msg += take; len -= take;
    if (held < 128) {
      store<u32>(ctx + BUFLEN, <u32>held);
      return;
    }
    sha512Compress(ctx, ctx + BUF);
  }
  while (len >= 128) {
    sha512Compress(ctx, msg);
    msg += 128; len -= 128;
  }
  if (len > 0) memory.copy(ctx + BUF, msg, len);
  store<u32>(ctx + BUFLEN, <u32>len);
}

/** Pads (FIPS 180-4 §5.1.2), compresses the last block(s) and writes the 64-byte digest to `out`. Leaves the context spent. */
export function sha512Final(ctx: usize, out: usize): void {
  let held = <usize>load<u32>(ctx + BUFLEN);
  const total = load<u64>(ctx + TOTAL);
  store<u8>(ctx + BUF + held, 0x80);
  held++;
  if (held > 112) {
    memory.fill(ctx + BUF + held, 0, 128 - held);
    sha512Compress(ctx, ctx + BUF);
    held = 0;
  }
  memory.fill(ctx + BUF + held, 0, 112 - held);
  // the message length in bits as a 128-bit big-endian number
  store<u64>(ctx + BUF + 112, bswap<u64>(total >>> 61));
  store<u64>(ctx + BUF + 120, bswap<u64>(total << 3));
  sha512Compress(ctx, ctx + BUF);
  for (let i: usize = 0; i < 64; i += 8) store<u64>(out + i, bswap<u64>(load<u64>(ctx + i)));
}

export function sha512(msg: usize, len: usize, out: usize, ctx: usize): void {
  sha512Init(ctx);
  sha512Update(ctx, msg, len);
  sha512Final(ctx, out);
}

export function wipeSha512Scratch(): void {
  memory.fill(W, 0, 80 * 8);
}
