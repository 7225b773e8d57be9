/** Moving data between per-record layout and 4-lane layout (lane i of each v128 = record i). */

/** Reads `words` (a multiple of 4) little-endian words of four lanes into 4-lane form: a 4×4 transpose per 16 bytes. */
export function transposeIn(src0: usize, src1: usize, src2: usize, src3: usize, words: usize, out: usize): void {
  for (let q: usize = 0; q < words; q += 4) {
    const r0 = v128.load(src0 + (q << 2)), r1 = v128.load(src1 + (q << 2));
    const r2 = v128.load(src2 + (q << 2)), r3 = v128.load(src3 + (q << 2));
    const t0 = v128.shuffle<u32>(r0, r1, 0, 4, 1, 5);
    const t1 = v128.shuffle<u32>(r0, r1, 2, 6, 3, 7);
    const t2 = v128.shuffle<u32>(r2, r3, 0, 4, 1, 5);
    const t3 = v128.shuffle<u32>(r2, r3, 2, 6, 3, 7);
    v128.store(out + (q << 4), v128.shuffle<u64>(t0, t2, 0, 2));
    v128.store(out + (q << 4) + 16, v128.shuffle<u64>(t0, t2, 1, 3));
    v128.store(out + (q << 4) + 32, v128.shuffle<u64>(t1, t3, 0, 2));
    v128.store(out + (q << 4) + 48, v128.shuffle<u64>(t1, t3, 1, 3));
  }
}
