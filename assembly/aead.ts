/**
 * ChaCha20-Poly1305 AEAD (RFC 8439 §2.8): 32-byte key, 12-byte nonce, 16-byte tag.
 * Open verifies the tag in constant time before any plaintext is written; the batch uses
 * aeadOpenRaw, which always decrypts so every record costs the same, and masks the result itself.
 */
import { chachaBlock, chacha20Xor } from './chacha20';
import { POLY1305_CTX, poly1305Init, poly1305Padded, poly1305Blocks, poly1305Finish } from './poly1305';
import { ctEqual } from './ct';

const POLY_KEY: usize = memory.data(64);
const POLY: usize = memory.data(<i32>POLY1305_CTX);
const LENGTHS: usize = memory.data(16);
const TAG: usize = memory.data(16);

/** Tag over aad and ciphertext, with the one-time key from block 0 (RFC 8439 §2.6). */
function aeadTag(key: usize, nonce: usize, aad: usize, aadLen: usize, ct: usize, ctLen: usize, tag: usize): void {
  chachaBlock(key, 0, nonce, POLY_KEY);
  aeadTagWithPolyKey(POLY_KEY, aad, aadLen, ct, ctLen, tag);
  memory.fill(POLY_KEY, 0, 64);
}

/** 1 when the tag over aad and ciphertext under a given one-time key (block 0's first 32 bytes) matches `tag`. */
export function aeadVerifyWithPolyKey(polyKey: usize, aad: usize, aadLen: usize, ct: usize, ctLen: usize, tag: usize): u32 {
  aeadTagWithPolyKey(polyKey, aad, aadLen, ct, ctLen, TAG);
  const ok = ctEqual(TAG, tag, 16);
  memory.fill(TAG, 0, 16);
  return ok;
}

function aeadTagWithPolyKey(polyKey: usize, aad: usize, aadLen: usize, ct: usize, ctLen: usize, tag: usize): void {
  poly1305Init(POLY, polyKey);
  poly1305Padded(POLY, aad, aadLen);
  poly1305Padded(POLY, ct, ctLen);
  store<u64>(LENGTHS, <u64>aadLen);
  store<u64>(LENGTHS, <u64>ctLen, 8);
  poly1305Blocks(POLY, LENGTHS, 16);
  poly1305Finish(POLY, tag);
}

/** Writes ciphertext (ptLen bytes) then the 16-byte tag to `out`. */
export function aeadSeal(key: usize, nonce: usize, aad: usize, aadLen: usize, pt: usize, ptLen: usize, out: usize): void {
  chacha20Xor(key, nonce, 1, pt, ptLen, out);
  aeadTag(key, nonce, aad, aadLen, out, ptLen, out + ptLen);
}

/** 1 and the plaintext in `out` when the tag verifies; 0 and nothing written otherwise. */
export function aeadOpen(key: usize, nonce: usize, aad: usize, aadLen: usize, ct: usize, ctLen: usize, tag: usize, out: usize): u32 {
  aeadTag(key, nonce, aad, aadLen, ct, ctLen, TAG);
  const ok = ctEqual(TAG, tag, 16);
  memory.fill(TAG, 0, 16);
  if (ok) chacha20Xor(key, nonce, 1, ct, ctLen, out); // branch on the public verdict only
  return ok;
}

/** Tag verdict (1/0) and the keystream-decrypted bytes regardless of it; the caller must mask. */
export function aeadOpenRaw(key: usize, nonce: usize, aad: usize, aadLen: usize, ct: usize, ctLen: usize, tag: usize, out: usize): u32 {
  aeadTag(key, nonce, aad, aadLen, ct, ctLen, TAG);
  const ok = ctEqual(TAG, tag, 16);
  memory.fill(TAG, 0, 16);
  chacha20Xor(key, nonce, 1, ct, ctLen, out);
  return ok;
}
