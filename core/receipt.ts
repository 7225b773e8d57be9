/**
 * Receipts anyone can verify (docs/receipts.md): the canonical bytes of a signed receipt, its text form
 * (`spr1.` + base64url, small enough for a QR code), and its verification with this core's Ed25519 (RFC 8032)
 * and SHA-256. Portable: no Node API, so a browser (the gateway's /receipt-verify page), a holder's wallet and
 * `scanpay receipt verify` run the same code. Signing is the issuer's (issuer/receipt-signing.ts, node:crypto in
 * the crypto workers); this module only builds the bytes a signer signs.
 *
 * Bytes (all integers big-endian; the signature covers every byte before it):
 *   0  4  magic "SPR1"             4  1  kind (1 payment, 2 capture, 3 refund)   5  2  key id
 *   7  8  sequence number (1, 2, … per merchant)                               15  8  time (ms since 1970)
 *  23  8  amount (minor units)     31  3  currency (ISO 4217, A–Z)            34 16  payment id
 *  50  4  event number (of the payment)                                       54 32  previous receipt's hash
 *  86  4  last 4 digits of the PAN 90  1  merchant length m (1–16)            91  m  merchant (ASCII)
 *  91+m 64 Ed25519 signature
 * A receipt's hash is SHA-256 of all its bytes, signature included; the first receipt of a merchant names 32
 * zero bytes as its previous hash.
 * @example
 *   const verdict = verifyReceipt(core, 'spr1.U1BSMQ…', [{ id: 1, publicKey: 'base64url…' }]);
 *   if (verdict.ok) show(verdict.receipt.amount, verdict.hash);
 */
import { ScanpayError, type ErrorCode } from './errors.ts';
import type { CryptoCore } from './types.ts';

export const RECEIPT_MAGIC = 'SPR1';
export const RECEIPT_TEXT_PREFIX = 'spr1.';
export const RECEIPT_KINDS = ['payment', 'capture', 'refund'] as const;
export type ReceiptKind = (typeof RECEIPT_KINDS)[number];
export const RECEIPT_HASH_BYTES = 32;
/** The previous hash of a merchant's first receipt (hex). */
export const RECEIPT_ZERO_HASH = '0'.repeat(2 * RECEIPT_HASH_BYTES);
const FIXED = 91; // bytes before the merchant
const SIGNATURE = 64;
const MERCHANT_MAX = 16;
const MERCHANT_RE = /^[A-Za-z0-9._-]{1,16}$/;
/** Longest receipt: the fixed fields, a 16-byte merchant and the signature. */
export const RECEIPT_MAX_BYTES = FIXED + MERCHANT_MAX + SIGNATURE;
/** Longest text form. */
export const RECEIPT_MAX_TEXT = RECEIPT_TEXT_PREFIX.length + Math.ceil((RECEIPT_MAX_BYTES * 4) / 3);

/** What a receipt says. Ids and hashes in lower-case hex. */
export interface ReceiptFields {
  kind: ReceiptKind;
  keyId: number; // the receipt key that signed it (1..65535)
  seq: number; // per merchant, 1, 2, …
  at: number; // ms since epoch: when the event that made it happened
  amount: number; // minor units
  currency: string;
  paymentId: string; // 32 hex
  eventN: number; // the payment's n'th event (its id: ev_<payment id>_<n>)
  prevHash: string; // 64 hex
  last4: string;
  merchant: string;
}

export interface Receipt extends ReceiptFields {
  signature: Uint8Array;
}

/** A published receipt key: its id and its Ed25519 public key (32 bytes, or base64url of them). */
export interface ReceiptPublicKey {
  id: number;
  publicKey: Uint8Array | string;
}

export type ReceiptProblem = 'RECEIPT_MALFORMED' | 'RECEIPT_KEY_UNKNOWN' | 'RECEIPT_SIGNATURE_INVALID' | 'RECEIPT_CHAIN_BROKEN';

export type ReceiptVerdict =
  | { ok: true; receipt: Receipt; hash: string }
  | { ok: false; code: ReceiptProblem; detail: string; receipt: Receipt | null };

function malformed(detail: string): ScanpayError {
  return new ScanpayError('RECEIPT_MALFORMED', detail);
}

const HEX_RE = (bytes: number) => new RegExp(`^[0-9a-f]{${2 * bytes}}$`);
const PAYMENT_ID_RE = HEX_RE(16);
const HASH_RE = HEX_RE(RECEIPT_HASH_BYTES);

export function hexOf(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function bytesOfHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function base64urlOf(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Strict base64url (no padding, no other characters, canonical last character), or null. */
export function bytesOfBase64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return base64urlOf(out) === text ? out : null; // one text per byte string: unused bits must be zero
}

function checkU(value: number, name: string, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) throw malformed(`${name} must be an integer in [0, ${max}]`);
}

/** The bytes a signer signs (everything but the signature), from checked fields. */
export function encodeReceiptBody(f: ReceiptFields): Uint8Array {
  const kind = RECEIPT_KINDS.indexOf(f.kind) + 1;
  if (kind === 0) throw malformed(`kind must be one of ${RECEIPT_KINDS.join(', ')}`);
  checkU(f.keyId, 'keyId', 0xffff);
  checkU(f.seq, 'seq', Number.MAX_SAFE_INTEGER);
  checkU(f.at, 'at', Number.MAX_SAFE_INTEGER);
  checkU(f.amount, 'amount', Number.MAX_SAFE_INTEGER);
  checkU(f.eventN, 'eventN', 0xffffffff);
  if (f.keyId < 1 || f.seq < 1 || f.eventN < 1) throw malformed('keyId, seq and eventN start at 1');
  if (!/^[A-Z]{3}$/.test(f.currency)) throw malformed('currency must be 3 letters A-Z');
  if (!PAYMENT_ID_RE.test(f.paymentId)) throw malformed('paymentId must be 32 hex digits');
  if (!HASH_RE.test(f.prevHash)) throw malformed('prevHash must be 64 hex digits');
  if (!/^[0-9]{4}$/.test(f.last4)) throw malformed('last4 must be 4 digits');
  if (!MERCHANT_RE.test(f.merchant)) throw malformed(`merchant must be 1 to ${MERCHANT_MAX} of [A-Za-z0-9._-]`);
  const out = new Uint8Array(FIXED + f.merchant.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = RECEIPT_MAGIC.charCodeAt(i);
  out[4] = kind;
  view.setUint16(5, f.keyId);
  view.setBigUint64(7, BigInt(f.seq));
  view.setBigUint64(15, BigInt(f.at));
  view.setBigUint64(23, BigInt(f.amount));
  for (let i = 0; i < 3; i++) out[31 + i] = f.currency.charCodeAt(i);
  out.set(bytesOfHex(f.paymentId), 34);
  view.setUint32(50, f.eventN);
  out.set(bytesOfHex(f.prevHash), 54);
  for (let i = 0; i < 4; i++) out[86 + i] = f.last4.charCodeAt(i);
  out[90] = f.merchant.length;
  for (let i = 0; i < f.merchant.length; i++) out[FIXED + i] = f.merchant.charCodeAt(i);
  return out;
}

/** A receipt's bytes: its body and signature. */
export function encodeReceipt(r: Receipt): Uint8Array {
  if (!(r.signature instanceof Uint8Array) || r.signature.length !== SIGNATURE) throw malformed('signature must be 64 bytes');
  const body = encodeReceiptBody(r);
  const out = new Uint8Array(body.length + SIGNATURE);
  out.set(body);
  out.set(r.signature, body.length);
  return out;
}

export function receiptText(bytes: Uint8Array): string {
  return RECEIPT_TEXT_PREFIX + base64urlOf(bytes);
}

/** The bytes of a receipt's text form; RECEIPT_MALFORMED for anything that is not one. */
export function receiptBytes(text: string): Uint8Array {
  if (typeof text !== 'string') throw malformed('a receipt is text');
  const t = text.trim();
  if (t.length > RECEIPT_MAX_TEXT) throw malformed(`longer than any receipt (${RECEIPT_MAX_TEXT} characters)`);
  if (!t.startsWith(RECEIPT_TEXT_PREFIX)) throw malformed(`a receipt starts with "${RECEIPT_TEXT_PREFIX}"`);
  const bytes = bytesOfBase64url(t.slice(RECEIPT_TEXT_PREFIX.length));
  if (!bytes) throw malformed('not base64url');
  return bytes;
}

/**
 * A receipt's fields from its bytes, checked to be exactly what encodeReceipt makes of them (one encoding per
 * receipt: a re-encoding of the same fields is the same bytes). RECEIPT_MALFORMED otherwise.
 */
export function decodeReceipt(bytes: Uint8Array): Receipt {
  if (!(bytes instanceof Uint8Array) || bytes.length < FIXED + 1 + SIGNATURE || bytes.length > RECEIPT_MAX_BYTES) throw malformed('wrong length');
  for (let i = 0; i < 4; i++) if (bytes[i] !== RECEIPT_MAGIC.charCodeAt(i)) throw malformed(`no "${RECEIPT_MAGIC}" magic (another version?)`);
  const m = bytes[90]!;
  if (bytes.length !== FIXED + m + SIGNATURE) throw malformed('its merchant length does not match its length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (at: number) => {
    const v = view.getBigUint64(at);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed('an integer is past 2^53 - 1');
    return Number(v);
  };
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  const kind = RECEIPT_KINDS[bytes[4]! - 1];
  if (!kind) throw malformed('unknown kind');
  const receipt: Receipt = {
    kind, keyId: view.getUint16(5), seq: u64(7), at: u64(15), amount: u64(23), currency: ascii(31, 34),
    paymentId: hexOf(bytes.subarray(34, 50)), eventN: view.getUint32(50), prevHash: hexOf(bytes.subarray(54, 86)),
    last4: ascii(86, 90), merchant: ascii(FIXED, FIXED + m), signature: bytes.slice(FIXED + m),
  };
  const again = encodeReceiptBody(receipt); // every field's rule, checked once, where the bytes are made
  for (let i = 0; i < again.length; i++) if (again[i] !== bytes[i]) throw malformed('not in canonical form');
  return receipt;
}

/** `•••• 1234`: the masked PAN a receipt shows (it carries only the last 4 digits). */
export function receiptMaskedPan(r: Pick<ReceiptFields, 'last4'>): string {
  return `•••• •••• •••• ${r.last4}`;
}

function publicKeyBytes(key: ReceiptPublicKey): Uint8Array | null {
  const bytes = typeof key.publicKey === 'string' ? bytesOfBase64url(key.publicKey) : key.publicKey;
  return bytes instanceof Uint8Array && bytes.length === 32 ? bytes : null;
}

/** What verifyReceipt takes as keys: a list, or the document `GET /v1/receipt-keys` publishes. */
export type ReceiptKeys = readonly ReceiptPublicKey[] | { keys: readonly { id: number; public_key: string }[] };

function keyList(keys: ReceiptKeys): ReceiptPublicKey[] {
  if (Array.isArray(keys)) return keys as ReceiptPublicKey[];
  const doc = keys as { keys?: unknown };
  if (!Array.isArray(doc.keys)) throw new ScanpayError('BAD_ARGUMENT', 'receipt keys must be a list or { keys: [{ id, public_key }] }');
  return (doc.keys as { id: number; public_key: string }[]).map((k) => ({ id: k.id, publicKey: k.public_key }));
}

function refused(code: ReceiptProblem, detail: string, receipt: Receipt | null): ReceiptVerdict {
  return { ok: false, code, detail, receipt };
}

/**
 * Checks a receipt (its text form, or its bytes): canonical bytes, a known key id, its Ed25519 signature (the
 * core's verify: RFC 8032, canonical encodings only) and, given the previous receipt's hash (hex), that it
 * links to it. Never throws on a receipt: the verdict says what is wrong (a bad `keys` argument throws).
 */
export function verifyReceipt(core: CryptoCore, receipt: string | Uint8Array, keys: ReceiptKeys, opts: { prevHash?: string } = {}): ReceiptVerdict {
  const list = keyList(keys);
  let bytes: Uint8Array;
  let decoded: Receipt;
  try {
    bytes = typeof receipt === 'string' ? receiptBytes(receipt) : receipt;
    decoded = decodeReceipt(bytes);
  } catch (e) {
    return refused('RECEIPT_MALFORMED', (e as ScanpayError).detail ?? (e as Error).message, null);
  }
  const key = list.find((k) => k.id === decoded.keyId);
  const publicKey = key && publicKeyBytes(key);
  if (!publicKey) return refused('RECEIPT_KEY_UNKNOWN', `no public key ${decoded.keyId} among ${list.map((k) => k.id).join(', ') || 'none'}`, decoded);
  const body = bytes.subarray(0, bytes.length - SIGNATURE);
  if (!core.ed25519Verify(publicKey, decoded.signature, body)) return refused('RECEIPT_SIGNATURE_INVALID', `not signed by receipt key ${decoded.keyId}`, decoded);
  if ((decoded.seq === 1) !== (decoded.prevHash === RECEIPT_ZERO_HASH)) {
    return refused('RECEIPT_CHAIN_BROKEN', `receipt ${decoded.seq} ${decoded.seq === 1 ? 'is a first receipt naming a previous one' : 'names no previous receipt'}`, decoded);
  }
  if (opts.prevHash !== undefined && opts.prevHash !== decoded.prevHash) {
    return refused('RECEIPT_CHAIN_BROKEN', `receipt ${decoded.seq} does not link to the receipt given before it`, decoded);
  }
  return { ok: true, receipt: decoded, hash: hexOf(core.sha256(bytes)) };
}

export interface ReceiptChainVerdict {
  ok: boolean;
  /** One verdict per receipt, in the order given; the first failure ends the check (later ones are not judged). */
  verdicts: ReceiptVerdict[];
  /** The last good receipt's hash: the head to check the next receipts against. */
  head: string | null;
}

/**
 * Checks receipts of one merchant in order: each verifies, and each links to the one before it (the hash and
 * the next sequence number, the same merchant). With `prevHash`, the first must link to it; a chain from a
 * merchant's first receipt starts from RECEIPT_ZERO_HASH (seq 1).
 */
export function verifyReceiptChain(core: CryptoCore, receipts: readonly (string | Uint8Array)[], keys: ReceiptKeys, opts: { prevHash?: string } = {}): ReceiptChainVerdict {
  const verdicts: ReceiptVerdict[] = [];
  let prev: { hash: string; seq: number; merchant: string } | null = null;
  let head: string | null = null;
  for (const text of receipts) {
    const prevHash: string | undefined = prev ? prev.hash : opts.prevHash;
    let verdict = verifyReceipt(core, text, keys, prevHash === undefined ? {} : { prevHash });
    if (verdict.ok) {
      const r = verdict.receipt;
      if (prev && (r.seq !== prev.seq + 1 || r.merchant !== prev.merchant)) {
        verdict = refused('RECEIPT_CHAIN_BROKEN', `receipt ${r.seq} of ${r.merchant} does not follow receipt ${prev.seq} of ${prev.merchant}`, r);
      }
    }
    verdicts.push(verdict);
    if (!verdict.ok) return { ok: false, verdicts, head };
    prev = { hash: verdict.hash, seq: verdict.receipt.seq, merchant: verdict.receipt.merchant };
    head = verdict.hash;
  }
  return { ok: true, verdicts, head };
}

/** The problem codes a verdict can carry, for tables of codes (core/errors.ts). */
export const RECEIPT_PROBLEMS: readonly (ReceiptProblem & ErrorCode)[] = ['RECEIPT_MALFORMED', 'RECEIPT_KEY_UNKNOWN', 'RECEIPT_SIGNATURE_INVALID', 'RECEIPT_CHAIN_BROKEN'];
