/**
 * The issuer key ring: versioned issuer keys (id → 32-byte key, state) and the storage key that wraps
 * basic keys at rest. Secrets never leave it in clear except through `serialize()`, which writes the
 * key ring file; toJSON and util.inspect show ids and states only.
 *
 * File format (JSON, mode 0600; or the same JSON in SCANPAY_KEYRING):
 *   { "format": "scanpay-keyring/v1", "storageKey": "<base64url 32 B>",
 *     "issuerKeys": [ { "id": 1, "state": "active" | "decrypt-only" | "retired", "key": "<base64url 32 B>", "createdAt": "<ISO 8601>" } ] }
 * Exactly one key is active: new payloads are sealed under it. Payloads under a decrypt-only key stay
 * legal until their card is re-issued; a retired key's payloads are illegal.
 * The card-token key (the keyed hash that names a card in the store instead of its PAN) is derived from the
 * storage key with HKDF-SHA256 under its own label, so key rings written before it existed keep working.
 *
 * Receipt keys (docs/receipts.md): Ed25519 keys that sign receipts, in their own id space,
 *   "receiptKeys": [ { "id": 1, "state": "active" | "verify-only", "seed": "<base64url 32 B>", "createdAt": "<ISO 8601>" } ]
 * Exactly one is active (new receipts are signed with it); a verify-only key signs nothing more, and its public
 * key stays published so the receipts it signed still verify. A ring without `receiptKeys` (written before
 * receipts) has one: id 1, its seed derived from the storage key with HKDF-SHA256 under its own label, so such a
 * ring signs receipts with no change to its file; the first receipt-key rotation writes it out.
 */
import { createHmac, createPrivateKey, createPublicKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { inspect } from 'node:util';
import { ScanpayError } from '../core/errors.ts';

export const KEYRING_FORMAT = 'scanpay-keyring/v1';
export type IssuerKeyState = 'active' | 'decrypt-only' | 'retired';
const STATES: readonly IssuerKeyState[] = ['active', 'decrypt-only', 'retired'];
const MAX_KEY_ID = 0xffff; // u16 in the payload header
const CARD_TOKEN_KEY_INFO = 'scanpay/v1/card-token-key';
const CARD_TOKEN_LABEL = 'scanpay/v1/card-token\n';
const BASIC_KEY_CHECK_KEY_INFO = 'scanpay/v1/basic-key-check-key';
const BASIC_KEY_CHECK_LABEL = 'scanpay/v1/basic-key-check\n';
/** Bytes of a card row's basic-key check (IssuerKeyRing.basicKeyCheck). */
export const BASIC_KEY_CHECK_SIZE = 16;
const PAN = /^[0-9]{16}$/;
const RECEIPT_KEY_INFO = 'scanpay/v1/receipt-key-1';
export type ReceiptKeyState = 'active' | 'verify-only';
const RECEIPT_STATES: readonly ReceiptKeyState[] = ['active', 'verify-only'];
/** PKCS #8 DER of an Ed25519 private key, up to its 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface ReceiptKeyInfo {
  id: number;
  state: ReceiptKeyState;
  createdAt: string;
  /** Ed25519 public key, base64url of its 32 bytes. */
  publicKey: string;
}

interface ReceiptKey extends ReceiptKeyInfo {
  seed: Uint8Array;
  /** Derived from the storage key (a ring written before receipts): not in the file until a rotation writes it. */
  derived: boolean;
}

function receiptKey(id: number, state: ReceiptKeyState, seed: Uint8Array, createdAt: string, derived = false): ReceiptKey {
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey).export({ format: 'jwk' }).x!;
  return { id, state, seed, createdAt, publicKey, derived };
}

export interface IssuerKeyInfo {
  id: number;
  state: IssuerKeyState;
  createdAt: string;
}

interface IssuerKey extends IssuerKeyInfo {
  key: Uint8Array;
}

function invalid(detail: string): ScanpayError {
  return new ScanpayError('KEYRING_INVALID', detail);
}

function decodeKey(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(value)) throw invalid(`${what} must be 32 bytes in base64url`);
  return new Uint8Array(Buffer.from(value, 'base64url'));
}

export class IssuerKeyRing {
  readonly #keys = new Map<number, IssuerKey>();
  readonly #storageKey: Uint8Array;
  readonly #cardTokenKey: Uint8Array;
  readonly #basicKeyCheckKey: Uint8Array;
  readonly #receiptKeys = new Map<number, ReceiptKey>();

  private constructor(storageKey: Uint8Array, keys: IssuerKey[], receiptKeys?: ReceiptKey[]) {
    this.#storageKey = storageKey;
    this.#cardTokenKey = new Uint8Array(hkdfSync('sha256', storageKey, new Uint8Array(0), CARD_TOKEN_KEY_INFO, 32));
    this.#basicKeyCheckKey = new Uint8Array(hkdfSync('sha256', storageKey, new Uint8Array(0), BASIC_KEY_CHECK_KEY_INFO, 32));
    for (const key of keys) {
      if (this.#keys.has(key.id)) throw invalid(`duplicate key id ${key.id}`);
      this.#keys.set(key.id, key);
    }
    if (keys.filter((k) => k.state === 'active').length !== 1) throw invalid('exactly one issuer key must be active');
    const receipts = receiptKeys ?? [receiptKey(1, 'active', new Uint8Array(hkdfSync('sha256', storageKey, new Uint8Array(0), RECEIPT_KEY_INFO, 32)), new Date(0).toISOString(), true)];
    for (const key of receipts) {
      if (this.#receiptKeys.has(key.id)) throw invalid(`duplicate receipt key id ${key.id}`);
      this.#receiptKeys.set(key.id, key);
    }
    if (receipts.filter((k) => k.state === 'active').length !== 1) throw invalid('exactly one receipt key must be active');
  }

  /** A new ring: a fresh storage key and one active issuer key, id 1. */
  static generate(now = new Date()): IssuerKeyRing {
    return new IssuerKeyRing(randomBytes(32), [{ id: 1, state: 'active', key: randomBytes(32), createdAt: now.toISOString() }],
      [receiptKey(1, 'active', randomBytes(32), now.toISOString())]);
  }

  static parse(json: string): IssuerKeyRing {
    let doc: unknown;
    try {
      doc = JSON.parse(json);
    } catch {
      throw invalid('not JSON'); // the text holds keys: never echo it
    }
    if (typeof doc !== 'object' || doc === null) throw invalid('not an object');
    const { format, storageKey, issuerKeys, receiptKeys } = doc as Record<string, unknown>;
    if (format !== KEYRING_FORMAT) throw invalid(`format must be "${KEYRING_FORMAT}"`);
    if (!Array.isArray(issuerKeys) || issuerKeys.length === 0) throw invalid('issuerKeys must be a non-empty array');
    const keys = issuerKeys.map((entry: Record<string, unknown>, i): IssuerKey => {
      const { id, state, key, createdAt } = entry ?? {};
      if (!Number.isInteger(id) || (id as number) < 1 || (id as number) > MAX_KEY_ID) throw invalid(`issuerKeys[${i}].id must be 1..${MAX_KEY_ID}`);
      if (!STATES.includes(state as IssuerKeyState)) throw invalid(`issuerKeys[${i}].state must be one of ${STATES.join(', ')}`);
      if (typeof createdAt !== 'string') throw invalid(`issuerKeys[${i}].createdAt must be an ISO 8601 string`);
      return { id: id as number, state: state as IssuerKeyState, key: decodeKey(key, `issuerKeys[${i}].key`), createdAt };
    });
    if (receiptKeys !== undefined && (!Array.isArray(receiptKeys) || receiptKeys.length === 0)) throw invalid('receiptKeys must be a non-empty array when present');
    const receipts = (receiptKeys as Record<string, unknown>[] | undefined)?.map((entry, i): ReceiptKey => {
      const { id, state, seed, createdAt } = entry ?? {};
      if (!Number.isInteger(id) || (id as number) < 1 || (id as number) > MAX_KEY_ID) throw invalid(`receiptKeys[${i}].id must be 1..${MAX_KEY_ID}`);
      if (!RECEIPT_STATES.includes(state as ReceiptKeyState)) throw invalid(`receiptKeys[${i}].state must be one of ${RECEIPT_STATES.join(', ')}`);
      if (typeof createdAt !== 'string') throw invalid(`receiptKeys[${i}].createdAt must be an ISO 8601 string`);
      return receiptKey(id as number, state as ReceiptKeyState, decodeKey(seed, `receiptKeys[${i}].seed`), createdAt);
    });
    return new IssuerKeyRing(decodeKey(storageKey, 'storageKey'), keys, receipts);
  }

  /** From SCANPAY_KEYRING (the JSON itself) or a file (SCANPAY_KEYRING_FILE or `file`). */
  static async load(opts: { file?: string; env?: NodeJS.ProcessEnv } = {}): Promise<IssuerKeyRing> {
    const env = opts.env ?? process.env;
    const file = opts.file ?? env.SCANPAY_KEYRING_FILE;
    if (file) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        throw invalid(`cannot read key ring file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      return IssuerKeyRing.parse(text);
    }
    if (env.SCANPAY_KEYRING) return IssuerKeyRing.parse(env.SCANPAY_KEYRING);
    throw invalid('no key ring: set SCANPAY_KEYRING_FILE (or pass --keyring FILE), or SCANPAY_KEYRING');
  }

  /** The secret file content. Only for writing the key ring file. */
  serialize(): string {
    return JSON.stringify({
      format: KEYRING_FORMAT,
      storageKey: Buffer.from(this.#storageKey).toString('base64url'),
      issuerKeys: [...this.#keys.values()].map((k) => ({ id: k.id, state: k.state, key: Buffer.from(k.key).toString('base64url'), createdAt: k.createdAt })),
      // a derived receipt key stays derived (the file as it was) until a rotation writes the ring's receipt keys
      ...([...this.#receiptKeys.values()].some((k) => k.derived) ? {} : {
        receiptKeys: [...this.#receiptKeys.values()].map((k) => ({ id: k.id, state: k.state, seed: Buffer.from(k.seed).toString('base64url'), createdAt: k.createdAt })),
      }),
    }, null, 2) + '\n';
  }

  /** Writes the ring to `file` atomically (temp file + rename), readable by the owner only. */
  async save(file: string): Promise<void> {
    const temp = `${file}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`;
    await writeFile(temp, this.serialize(), { mode: 0o600, flag: 'wx' }); // a fresh file: never an existing (0644) file or a symlink
    await rename(temp, file);
  }

  /** Makes a new active key; the previous active key becomes decrypt-only. Returns the new id. */
  rotate(now = new Date()): number {
    const id = Math.max(...this.#keys.keys()) + 1;
    if (id > MAX_KEY_ID) throw invalid('key ids exhausted');
    for (const key of this.#keys.values()) if (key.state === 'active') key.state = 'decrypt-only';
    this.#keys.set(id, { id, state: 'active', key: randomBytes(32), createdAt: now.toISOString() });
    return id;
  }

  /**
   * A retired key's payloads are illegal from now on; false when it already was (nothing changed). The
   * active key cannot be retired: rotate first.
   */
  retire(id: number): boolean {
    const key = this.#keys.get(id);
    if (!key) throw new ScanpayError('KEY_UNKNOWN', `key ${id} (the ring holds ${[...this.#keys.keys()].join(', ')})`);
    if (key.state === 'active') throw new ScanpayError('BAD_ARGUMENT', `key ${id} is active: rotate before retiring it`);
    if (key.state === 'retired') return false;
    key.state = 'retired';
    return true;
  }

  /**
   * Makes a new active receipt key; the previous one becomes verify-only (its public key stays published). Returns
   * the new id. A derived key 1 is written out with the rest from now on.
   */
  rotateReceiptKey(now = new Date()): number {
    const id = Math.max(...this.#receiptKeys.keys()) + 1;
    if (id > MAX_KEY_ID) throw invalid('receipt key ids exhausted');
    for (const key of this.#receiptKeys.values()) {
      if (key.state === 'active') key.state = 'verify-only';
      key.derived = false;
    }
    this.#receiptKeys.set(id, receiptKey(id, 'active', randomBytes(32), now.toISOString()));
    return id;
  }

  /** The key new receipts are signed with: its id and a node:crypto private key (inspect shows no key bytes). */
  receiptSigningKey(): { id: number; privateKey: KeyObject } {
    for (const k of this.#receiptKeys.values()) {
      if (k.state === 'active') return { id: k.id, privateKey: createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, k.seed]), format: 'der', type: 'pkcs8' }) };
    }
    throw new ScanpayError('RECEIPT_KEY_MISSING'); // unreachable: the constructor checks
  }

  /** Every receipt key's public half: what `GET /v1/receipt-keys` and `scanpay keys public` publish. */
  receiptPublicKeys(): ReceiptKeyInfo[] {
    return [...this.#receiptKeys.values()].map(({ id, state, createdAt, publicKey }) => ({ id, state, createdAt, publicKey }));
  }

  /** The key new payloads are sealed under. */
  active(): { id: number; key: Uint8Array } {
    for (const k of this.#keys.values()) if (k.state === 'active') return { id: k.id, key: k.key };
    throw invalid('no active key'); // unreachable: the constructor checks
  }

  /** The key that opens payloads with this id; throws KEY_UNKNOWN or KEY_RETIRED. */
  keyForOpening(id: number): Uint8Array {
    const k = this.lookupForOpening(id);
    if (typeof k === 'string') throw new ScanpayError(k);
    return k;
  }

  /** As keyForOpening, without throwing: the scan path takes the same time for every key id (no exception to build). */
  lookupForOpening(id: number): Uint8Array | 'KEY_UNKNOWN' | 'KEY_RETIRED' {
    const k = this.#keys.get(id);
    if (!k) return 'KEY_UNKNOWN';
    return k.state === 'retired' ? 'KEY_RETIRED' : k.key;
  }

  /**
   * The name of a card in the store: HMAC-SHA256(card-token key, label ‖ PAN), first 16 bytes in hex. A PAN has
   * only ~10^9 values under one BIN, so an unkeyed hash would be reversed by enumeration; this one is not.
   */
  cardToken(pan: string): string {
    if (typeof pan !== 'string' || !PAN.test(pan)) throw new ScanpayError('BAD_ARGUMENT', 'PAN must be 16 digits');
    return createHmac('sha256', this.#cardTokenKey).update(CARD_TOKEN_LABEL + pan).digest().subarray(0, 16).toString('hex');
  }

  /**
   * A card row's check of its basic key: HMAC-SHA256(check key, label ‖ card token ‖ basic key), first 16 bytes.
   * The crypto workers compute it from the basic key they decrypt at S22, so the gateway thread compares two
   * checks (constant time) instead of unwrapping the stored key: no clear basic key and no AEAD on that thread.
   */
  basicKeyCheck(cardToken: string, basicKey: Uint8Array): Uint8Array {
    const check = createHmac('sha256', this.#basicKeyCheckKey).update(BASIC_KEY_CHECK_LABEL + cardToken).update(basicKey).digest();
    return new Uint8Array(check.subarray(0, BASIC_KEY_CHECK_SIZE));
  }

  get storageKey(): Uint8Array {
    return this.#storageKey;
  }

  list(): IssuerKeyInfo[] {
    return [...this.#keys.values()].map(({ id, state, createdAt }) => ({ id, state, createdAt }));
  }

  toJSON(): { issuerKeys: IssuerKeyInfo[]; receiptKeys: ReceiptKeyInfo[] } {
    return { issuerKeys: this.list(), receiptKeys: this.receiptPublicKeys() };
  }

  [inspect.custom](): string {
    return `IssuerKeyRing(${this.list().map((k) => `${k.id}:${k.state}`).join(', ')}; receipts ${this.receiptPublicKeys().map((k) => `${k.id}:${k.state}`).join(', ')})`;
  }
}
