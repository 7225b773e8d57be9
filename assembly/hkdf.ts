/**
 * HKDF-SHA256 (RFC 5869 §2.2 extract, §2.3 expand). Output length L ≤ 255 × 32 = 8160 bytes;
 * longer requests return HKDF_TOO_LONG and write nothing.
 */
import { HMAC_CTX, hmacInit, hmacUpdate, hmacFinal, hmacSha256 } from './hmac';

export const HKDF_MAX: usize = 255 * 32;
export const HKDF_TOO_LONG: i32 = 1;

const KEYED: usize = memory.data(<i32>HMAC_CTX);
const WORK: usize = memory.data(<i32>HMAC_CTX);
const BLOCK: usize = memory.data(32);
const COUNTER: usize = memory.data(1);

/** PRK = HMAC(salt, ikm). An empty salt equals HashLen zero bytes as HMAC keys (both pad to zeros). */
export function hkdfExtract(salt: usize, saltLen: usize, ikm: usize, ikmLen: usize, prk: usize): void {
  hmacSha256(salt, saltLen, ikm, ikmLen, prk, WORK);
  memory.fill(WORK, 0, HMAC_CTX);
}

export function hkdfExpand(prk: usize, prkLen: usize, info: usize, infoLen: usize, out: usize, len: usize): i32 {
  if (len > HKDF_MAX) return HKDF_TOO_LONG;
  hmacInit(KEYED, prk, prkLen);
  let done: usize = 0;
  for (let i: u32 = 1; done < len; i++) {
    memory.copy(WORK, KEYED, HMAC_CTX);
    if (i > 1) hmacUpdate(WORK, BLOCK, 32);
    hmacUpdate(WORK, info, infoLen);
    store<u8>(COUNTER, <u8>i);
    hmacUpdate(WORK, COUNTER, 1);
    hmacFinal(WORK, BLOCK);
    const take = min<usize>(32, len - done);
    memory.copy(out + done, BLOCK, take);
    done += take;
  }
  memory.fill(KEYED, 0, HMAC_CTX);
  memory.fill(WORK, 0, HMAC_CTX);
  memory.fill(BLOCK, 0, 32);
  return 0;
}

const EXPAND_COUNTER: usize = memory.data<u8>([1]);

/**
 * HKDF-Expand for L = 32 (one block, RFC 5869 §2.3): T(1) = HMAC(prk[32], info1 ‖ info2 ‖ info3 ‖ 0x01) into `out`,
 * in the caller's HMAC context `ctx` (the caller wipes it). The info comes in up to three parts, so a label and
 * record fields are hashed where they lie, without a copy; an unused part has length 0.
 */
export function hkdfExpand32(ctx: usize, prk: usize, info1: usize, info1Len: usize, info2: usize, info2Len: usize, info3: usize, info3Len: usize, out: usize): void {
  hmacInit(ctx, prk, 32);
  hmacUpdate(ctx, info1, info1Len);
  hmacUpdate(ctx, info2, info2Len);
  hmacUpdate(ctx, info3, info3Len);
  hmacUpdate(ctx, EXPAND_COUNTER, 1);
  hmacFinal(ctx, out);
}
