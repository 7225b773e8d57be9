/**
 * The crypto of S22 and S25 on the thread that holds the issuer key ring: a crypto worker in the gateway,
 * the baseline's main thread, or the issuer's own process (CLI). It takes payload bytes and card rows as
 * they are at rest, and gives back what the verifier judges (card-engine.ts): statuses, the card token,
 * the last 4 digits, a basic-key check and the cryptogram. Issuer keys, clear basic keys and clear PANs
 * never leave it; each one is wiped once its batch is done.
 *
 * A payload naming an unknown or retired key id is opened under a dummy key, so it costs the same work as a
 * known key with a bad tag (no timing oracle on key ids); its status carries KEY_UNKNOWN or KEY_RETIRED.
 */
import { randomBytes } from 'node:crypto';
import { isScanpayError } from '../core/errors.ts';
import type { CryptoCore, Dvd1OpenInput, Dvd1Opened, Dvd1Record, Dvd1Result } from '../core/types.ts';
import { CARD_STATUS, type CardOpening, type PinCheck, type PinChecked } from './card-engine.ts';
import { unwrapBasicKey } from './card-secrets.ts';
import type { IssuerKeyRing } from './key-ring.ts';
import { parsePayload, type ParsedPayload } from './payload.ts';
import { isMinorUnits, merchantBytes } from '../protocol/values.ts';

/** The DVD-1 batch functions: the WASM core's (default) or the node:crypto baseline's. */
export interface Dvd1Functions {
  dvd1OpenBatch(inputs: readonly Dvd1OpenInput[]): Dvd1Opened[];
  dvd1Batch(records: readonly Dvd1Record[]): Dvd1Result[];
}

const NOT_AUTHENTIC = CARD_STATUS.PAN_TAG | CARD_STATUS.KEY_TAG;
/** A PAN no card has (its Luhn digit is wrong), hashed for a payload that did not open. */
const DUMMY_PAN = '0000000000000001';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function amountOf(amount: number): bigint {
  if (!isMinorUnits(amount)) throw new RangeError('amount must be a whole number of minor units ≥ 0');
  return BigInt(amount);
}

export class CardCrypto {
  #keyRing: IssuerKeyRing;
  readonly #core: CryptoCore;
  readonly #dvd1: Dvd1Functions;
  /** Opens nothing a real key sealed: a tag under it fails like a forged one. */
  readonly #dummyKey = new Uint8Array(randomBytes(32));

  constructor(core: CryptoCore, keyRing: IssuerKeyRing, dvd1: Dvd1Functions = core) {
    this.#core = core;
    this.#keyRing = keyRing;
    this.#dvd1 = dvd1;
  }

  get keyRing(): IssuerKeyRing {
    return this.#keyRing;
  }

  /** Work from now on uses this ring (a rotated or retired key takes effect at once). */
  set keyRing(ring: IssuerKeyRing) {
    this.#keyRing = ring;
  }

  /** The key to open a payload under, and the key-state bits (a dummy key when its id is unusable). */
  #kek(payload: ParsedPayload): { kek: Uint8Array; keyStatus: number } {
    const key = this.#keyRing.lookupForOpening(payload.keyId);
    if (key === 'KEY_UNKNOWN') return { kek: this.#dummyKey, keyStatus: CARD_STATUS.KEY_UNKNOWN };
    if (key === 'KEY_RETIRED') return { kek: this.#dummyKey, keyStatus: CARD_STATUS.KEY_RETIRED };
    return { kek: key, keyStatus: 0 };
  }

  /** Payload bytes the caller did not check are parsed here; a malformed one reads as not authentic. */
  #parse(bytes: Uint8Array): ParsedPayload | null {
    try {
      return parsePayload(bytes);
    } catch (e) {
      if (isScanpayError(e)) return null;
      throw e;
    }
  }

  /** S22, DVD-1 steps 1–2 for many payloads in one core call; answers in input order. */
  openCards(payloads: readonly Uint8Array[]): CardOpening[] {
    const answers: CardOpening[] = new Array(payloads.length);
    const inputs: Dvd1OpenInput[] = [];
    const at: { index: number; keyStatus: number }[] = [];
    payloads.forEach((bytes, index) => {
      const payload = this.#parse(bytes);
      if (!payload) {
        answers[index] = { status: NOT_AUTHENTIC, card: null, last4: null, basicKeyCheck: null };
        return;
      }
      const { kek, keyStatus } = this.#kek(payload);
      inputs.push({ kek, ...payload.fields });
      at.push({ index, keyStatus });
    });
    const opened = inputs.length ? this.#dvd1.dvd1OpenBatch(inputs) : [];
    opened.forEach((result, i) => {
      const { index, keyStatus } = at[i];
      try {
        const status = result.status | keyStatus;
        if (status !== 0) {
          // the same two keyed hashes an authentic payload costs, over nothing, so a forgery's answer comes as late
          this.#keyRing.basicKeyCheck(this.#keyRing.cardToken(DUMMY_PAN), this.#dummyKey);
          answers[index] = { status, card: null, last4: null, basicKeyCheck: null };
          return;
        }
        const pan = decoder.decode(result.pan!);
        const card = this.#keyRing.cardToken(pan);
        answers[index] = { status, card, last4: pan.slice(-4), basicKeyCheck: this.#keyRing.basicKeyCheck(card, result.basicKey!) };
      } finally {
        result.pan?.fill(0);
        result.basicKey?.fill(0);
      }
    });
    return answers;
  }

  /** S25, the whole of DVD-1 for many counted attempts in one core call; answers in input order. */
  checkPins(checks: readonly PinCheck[]): PinChecked[] {
    const answers: PinChecked[] = new Array(checks.length);
    const records: Dvd1Record[] = [];
    const at: { index: number; extraStatus: number }[] = [];
    try {
      checks.forEach((check, index) => {
        const payload = this.#parse(check.payload);
        if (!payload) {
          answers[index] = { status: NOT_AUTHENTIC, cryptogram: null };
          return;
        }
        const { kek, keyStatus } = this.#kek(payload);
        let storedBasicKey: Uint8Array;
        let unwrapStatus = 0;
        try {
          storedBasicKey = unwrapBasicKey(this.#core, this.#keyRing.storageKey, check.card, check.wrappedBasicKey);
        } catch (e) {
          if (!isScanpayError(e, 'AEAD_TAG_INVALID') && !isScanpayError(e, 'BAD_LENGTH')) throw e;
          storedBasicKey = new Uint8Array(32); // row altered or moved at rest: the batch runs, and fails it
          unwrapStatus = CARD_STATUS.BASIC_KEY;
        }
        records.push({
          kek, ...payload.fields, storedBasicKey, storedPvv: check.pvv,
          pin: encoder.encode(check.pin), sid: Buffer.from(check.sessionId, 'hex'),
          merchant: merchantBytes(check.merchant), amount: amountOf(check.amount),
        });
        at.push({ index, extraStatus: keyStatus | unwrapStatus });
      });
      const results = records.length ? this.#dvd1.dvd1Batch(records) : [];
      results.forEach((result, i) => {
        const { index, extraStatus } = at[i];
        const status = result.status | extraStatus;
        answers[index] = { status, cryptogram: status === 0 ? result.cryptogram : null };
      });
      return answers;
    } finally {
      for (const record of records) {
        record.storedBasicKey.fill(0);
        record.pin.fill(0);
      }
    }
  }
}
