/**
 * scanpay crypto core: the exports of the WebAssembly module.
 *
 * Every function takes pointers into linear memory. Memory from heapBase() upwards belongs to the
 * caller (the TypeScript wrapper in core/); below it lie the module's constants and scratch, which each
 * export wipes before returning. See docs/core.md for the ABI and the DVD-1 record layout.
 */
import { sha256 as sha256Impl, wipeSha256Scratch } from './sha256';
import { HMAC_CTX, hmacSha256 as hmacImpl } from './hmac';
import { hkdfExtract as extractImpl, hkdfExpand as expandImpl } from './hkdf';
import { ctEqual as ctEqualImpl } from './ct';
import { luhnCheck } from './luhn';
import { runSelftest } from './selftest';
export { aeadSeal, aeadOpen } from './aead'; // seal writes ct ‖ tag; open returns 1 or writes nothing
export { dvd1Batch, dvd1BatchScalar, dvd1OpenBatch, RECORD_SIZE as DVD1_RECORD_SIZE } from './dvd1';

/**
 * The ABI this module speaks (docs/abi.md): bumped whenever an export's signature or meaning, the
 * DVD-1 record or result layout, or a status bit changes. Embedders refuse a version they do not know.
 */
const ABI_VERSION: u32 = 1;

export function abiVersion(): u32 {
  return ABI_VERSION;
}

/** 4 in the SIMD build (records run four to a pass), 1 in the scalar build; outputs are the same. */
export function simdLanes(): u32 {
  return ASC_FEATURE_SIMD ? 4 : 1;
}

/** 0 when every embedded known answer matches. */
export function selftest(): i32 {
  return runSelftest();
}

const CTX: usize = memory.data(<i32>HMAC_CTX);

function wipe(): void {
  memory.fill(CTX, 0, HMAC_CTX);
  wipeSha256Scratch();
}

/** First byte the caller may use; 16-byte aligned. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~<usize>15;
}

export function sha256(msg: usize, len: usize, out: usize): void {
  sha256Impl(msg, len, out, CTX);
  wipe();
}

export function hmacSha256(key: usize, keyLen: usize, msg: usize, msgLen: usize, out: usize): void {
  hmacImpl(key, keyLen, msg, msgLen, out, CTX);
  wipe();
}

export function hkdfExtract(salt: usize, saltLen: usize, ikm: usize, ikmLen: usize, prk: usize): void {
  extractImpl(salt, saltLen, ikm, ikmLen, prk);
  wipeSha256Scratch();
}

/** 0 on success; 1 when len > 8160 (nothing written). */
export function hkdfExpand(prk: usize, prkLen: usize, info: usize, infoLen: usize, out: usize, len: usize): i32 {
  const rc = expandImpl(prk, prkLen, info, infoLen, out, len);
  wipeSha256Scratch();
  return rc;
}

export function ctEqual(a: usize, b: usize, len: usize): u32 {
  return ctEqualImpl(a, b, len);
}

export function luhn(digits: usize, len: usize): u32 {
  return luhnCheck(digits, len);
}

export { sha256Batch64 } from './sha256-batch';
