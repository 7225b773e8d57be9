/** Types at the boundary of the WebAssembly crypto core (see docs/core.md). */

/** One DVD-1 record: the crypto of one payment (issue #2, docs/core.md §DVD-1). */
export interface Dvd1Record {
  kek: Uint8Array; // 32 B issuer key
  hdr: Uint8Array; // 8 B payload header (AAD of both fields)
  n1: Uint8Array; // 12 B nonce of the encrypted PAN
  c1: Uint8Array; // 32 B: 16 B ciphertext of the ASCII PAN ‖ 16 B tag1
  n2: Uint8Array; // 12 B nonce of the encrypted basic key
  c2: Uint8Array; // 48 B: 32 B ciphertext of the basic key ‖ 16 B tag2 (AAD = hdr ‖ tag1)
  storedBasicKey: Uint8Array; // 32 B
  storedPvv: Uint8Array; // 32 B = HMAC(kPin, PAN ‖ PIN)
  pin: Uint8Array; // 4 ASCII digits
  sid: Uint8Array; // 16 B session id
  merchant: Uint8Array; // 16 B
  amount: bigint; // u64, encoded big-endian
}

/** The payload half of a record: what DVD-1 steps 1–2 need before the card is looked up. */
export type Dvd1OpenInput = Pick<Dvd1Record, 'kek' | 'hdr' | 'n1' | 'c1' | 'n2' | 'c2'>;

/** Result of steps 1–2 for one payload: PAN and basic key only when every check passed. */
export interface Dvd1Opened {
  ok: boolean;
  status: number; // PAN_TAG | KEY_TAG | LUHN bits
  pan: Uint8Array | null; // 16 ASCII digits
  basicKey: Uint8Array | null; // 32 B: the caller must wipe it (fill(0)) when done
}

/** Status bits of one DVD-1 record (0 = every check passed), defined with the rest of the layout. */
export { DVD1_STATUS } from './dvd1-layout.ts';

export interface Dvd1Result {
  ok: boolean; // status === 0
  status: number; // OR of DVD1_STATUS bits
  cryptogram: Uint8Array; // 32 B; all zero when !ok
}

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
  selftest(): number;
}
