/** Types at the boundary of the WebAssembly crypto core (see docs/core.md). */

import type {
  Dvd1CodeRecord, Dvd1Enrolled, Dvd1OpenInput, Dvd1Opened, Dvd1PackedEnrolled, Dvd1PackedOpened, Dvd1PackedResult, Dvd1Record, Dvd1Result,
} from './dvd1-layout.ts';

/** The DVD-1 record and result types, defined with the layout they are packed in (core/dvd1-layout.ts). */
export type {
  Dvd1CodeRecord, Dvd1Enrolled, Dvd1OpenInput, Dvd1Opened, Dvd1PackedEnrolled, Dvd1PackedOpened, Dvd1PackedResult, Dvd1Record, Dvd1Result,
};

/** Status bits of one DVD-1 record (0 = every check passed), defined with the rest of the layout. */
export { DVD1_STATUS } from './dvd1-layout.ts';

/**
 * The typed API over the WebAssembly module. Every input is checked at the boundary: the module never runs on a
 * bad one, and a call that throws returns nothing and leaves nothing behind in WASM memory.
 */
export interface CryptoCore {
  sha256(msg: Uint8Array): Uint8Array;
  /** SHA-512 (FIPS 180-4): 64 bytes. */
  sha512(msg: Uint8Array): Uint8Array;
  /**
   * Ed25519 verification (RFC 8032 §5.1.7, cofactored; canonical A and R, S < L, small-order keys refused;
   * docs/core.md): true when `signature` (64 B) signs `message` under `publicKey` (32 B), else false.
   * Throws ScanpayError('BAD_LENGTH') for another key or signature length: a malformed signature is the caller's error, not a verdict.
   */
  ed25519Verify(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): boolean;
  hmacSha256(key: Uint8Array, msg: Uint8Array): Uint8Array;
  hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Uint8Array;
  /** Throws ScanpayError('HKDF_LENGTH') when length > 8160. */
  hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** ChaCha20-Poly1305 (RFC 8439): returns ciphertext ‖ 16 B tag. key 32 B, nonce 12 B. */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;
  /** Returns the plaintext, or throws ScanpayError('AEAD_TAG_INVALID') having written no plaintext anywhere. */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array;
  constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean;
  /** Luhn check of ASCII digits; false for any non-digit or fewer than 2 digits. */
  luhn(digits: Uint8Array | string): boolean;
  dvd1Batch(records: readonly Dvd1Record[]): Dvd1Result[];
  /** DVD-1 steps 1–2 (decrypt, Luhn) over many payloads in one WASM call. */
  dvd1OpenBatch(inputs: readonly Dvd1OpenInput[]): Dvd1Opened[];
  /** dvd1Batch over `count` records already packed in the layout (count × 256 bytes); `packed` is left as it is. */
  dvd1BatchPacked(packed: Uint8Array, count: number): Dvd1PackedResult;
  /** dvd1OpenBatch over `count` packed records (only their first 144 bytes are read); the caller wipes `opened`. */
  dvd1OpenBatchPacked(packed: Uint8Array, count: number): Dvd1PackedOpened;
  /** Code records (a wallet's one-time code against the card row; docs/core.md §Code records): the PIN record's cryptogram. */
  dvd1CodeBatch(records: readonly Dvd1CodeRecord[]): Dvd1Result[];
  /** dvd1CodeBatch over `count` code records already packed (count × 256 bytes); `packed` is left as it is. */
  dvd1CodeBatchPacked(packed: Uint8Array, count: number): Dvd1PackedResult;
  /**
   * Enrolment: `count` packed PIN records checked as dvd1Batch does, and for each that passes the wallet key of
   * `enrolmentIds[i*16..+16]` and the PAN (enrolled[i*48..] = walletKey[32] ‖ PAN[16]); the caller wipes `enrolled`.
   */
  dvd1EnrolBatchPacked(packed: Uint8Array, enrolmentIds: Uint8Array, count: number): Dvd1PackedEnrolled;
  selftest(): number;
}
