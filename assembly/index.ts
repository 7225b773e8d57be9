/**
 * scanpay crypto core: the exports of the WebAssembly module.
 *
 * Every function takes pointers into linear memory. Memory from heapBase() upwards belongs to the
 * caller (the TypeScript wrapper in core/); below it lie the module's constants and scratch, which each
 * export wipes before returning. See docs/core.md for the ABI and the DVD-1 record layout.
 */
import { sha256 as sha256Impl, wipeSha256Scratch } from './sha256';
import { SHA512_CTX, sha512 as sha512Impl, wipeSha512Scratch } from './sha512';
import { ed25519Verify as ed25519VerifyImpl } from './ed25519';
import { HMAC_CTX, hmacSha256 as hmacImpl } from './hmac';
import { hkdfExtract as extractImpl, hkdfExpand as expandImpl } from './hkdf';
import { ctEqual as ctEqualImpl } from './ct';
import { luhnCheck } from './luhn';
import { runSelftest } from './selftest';
export { aeadSeal, aeadOpen } from './aead'; // seal writes ct ‖ tag; open returns 1 or writes nothing
export { dvd1Batch, dvd1BatchScalar, dvd1OpenBatch, dvd1EnrolBatch } from './dvd1';
export { dvd1CodeBatch } from './dvd1-code';
// The DVD-1 layout as i32 globals (docs/abi.md): offsets and lengths of the record's fields and of the
// results, the status bits, and the addresses of the two label strings (read-only module memory).
export {
  RECORD_SIZE as DVD1_RECORD_SIZE,
  KEK as DVD1_KEK_OFFSET, KEK_LENGTH as DVD1_KEK_LENGTH,
  HDR as DVD1_HDR_OFFSET, HDR_LENGTH as DVD1_HDR_LENGTH,
  N1 as DVD1_N1_OFFSET, N1_LENGTH as DVD1_N1_LENGTH,
  C1 as DVD1_C1_OFFSET, C1_LENGTH as DVD1_C1_LENGTH,
  N2 as DVD1_N2_OFFSET, N2_LENGTH as DVD1_N2_LENGTH,
  C2 as DVD1_C2_OFFSET, C2_LENGTH as DVD1_C2_LENGTH,
  STORED_BK as DVD1_STORED_BASIC_KEY_OFFSET, STORED_BK_LENGTH as DVD1_STORED_BASIC_KEY_LENGTH,
  STORED_PVV as DVD1_STORED_PVV_OFFSET, STORED_PVV_LENGTH as DVD1_STORED_PVV_LENGTH,
  PIN as DVD1_PIN_OFFSET, PIN_LENGTH as DVD1_PIN_LENGTH,
  SID as DVD1_SID_OFFSET, SID_LENGTH as DVD1_SID_LENGTH,
  MERCHANT as DVD1_MERCHANT_OFFSET, MERCHANT_LENGTH as DVD1_MERCHANT_LENGTH,
  AMOUNT as DVD1_AMOUNT_OFFSET, AMOUNT_LENGTH as DVD1_AMOUNT_LENGTH,
  CRYPTOGRAM_SIZE as DVD1_CRYPTOGRAM_SIZE,
  OPENED_SIZE as DVD1_OPENED_SIZE,
  OPENED_PAN as DVD1_OPENED_PAN_OFFSET, PAN_LENGTH as DVD1_OPENED_PAN_LENGTH,
  OPENED_BASIC_KEY as DVD1_OPENED_BASIC_KEY_OFFSET, BASIC_KEY_LENGTH as DVD1_OPENED_BASIC_KEY_LENGTH,
  STATUS_PAN_TAG as DVD1_STATUS_PAN_TAG, STATUS_KEY_TAG as DVD1_STATUS_KEY_TAG, STATUS_LUHN as DVD1_STATUS_LUHN,
  STATUS_BASIC_KEY as DVD1_STATUS_BASIC_KEY, STATUS_PVV as DVD1_STATUS_PVV,
  LABEL_PIN as DVD1_LABEL_PIN, LABEL_PIN_LENGTH as DVD1_LABEL_PIN_LENGTH,
  LABEL_TXN as DVD1_LABEL_TXN, LABEL_TXN_LENGTH as DVD1_LABEL_TXN_LENGTH,
  CODE_SIGNED as DVD1_CODE_SIGNED_OFFSET, CODE_SIGNED_LENGTH as DVD1_CODE_SIGNED_LENGTH,
  CODE_MAC as DVD1_CODE_MAC_OFFSET, CODE_MAC_LENGTH as DVD1_CODE_MAC_LENGTH,
  CODE_PAN as DVD1_CODE_PAN_OFFSET, CODE_PAN_LENGTH as DVD1_CODE_PAN_LENGTH,
  CODE_WITH_PIN as DVD1_CODE_WITH_PIN_OFFSET, CODE_WITH_PIN_LENGTH as DVD1_CODE_WITH_PIN_LENGTH,
  ENROLMENT_ID_LENGTH as DVD1_ENROLMENT_ID_LENGTH,
  ENROLLED_SIZE as DVD1_ENROLLED_SIZE,
  ENROLLED_WALLET_KEY as DVD1_ENROLLED_WALLET_KEY_OFFSET, WALLET_KEY_LENGTH as DVD1_ENROLLED_WALLET_KEY_LENGTH,
  ENROLLED_PAN as DVD1_ENROLLED_PAN_OFFSET, PAN_LENGTH as DVD1_ENROLLED_PAN_LENGTH,
  STATUS_CODE_MAC as DVD1_STATUS_CODE_MAC,
  LABEL_WALLET_KEY as DVD1_LABEL_WALLET_KEY, LABEL_WALLET_KEY_LENGTH as DVD1_LABEL_WALLET_KEY_LENGTH,
  LABEL_CODE as DVD1_LABEL_CODE, LABEL_CODE_LENGTH as DVD1_LABEL_CODE_LENGTH,
} from './dvd1-layout';

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
const CTX512: usize = memory.data(<i32>SHA512_CTX);

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

export function sha512(msg: usize, len: usize, out: usize): void {
  sha512Impl(msg, len, out, CTX512);
  memory.fill(CTX512, 0, SHA512_CTX);
  wipeSha512Scratch();
}

/**
 * 1 when the 64-byte signature at sig is a valid Ed25519 signature (RFC 8032 §5.1.7, cofactored;
 * the rules in assembly/ed25519.ts) of the msgLen bytes at msg under the 32-byte public key at pub, else 0.
 */
export function ed25519Verify(pub: usize, sig: usize, msg: usize, msgLen: usize): i32 {
  return ed25519VerifyImpl(pub, sig, msg, msgLen) ? 1 : 0;
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

