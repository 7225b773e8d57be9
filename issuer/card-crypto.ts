/**
 * The crypto of S22 and S25 on the thread that holds the issuer key ring: a crypto worker in the gateway,
 * the baseline's main thread, or the issuer's own process (CLI). It takes batches in the engine's format
 * (card-batch.ts: DVD-1 records already holding the payload and the card row as it is at rest), fills in
 * the issuer key and the unwrapped basic key in place, runs the core's packed batch on the records as they
 * are, and writes what the verifier judges (card-engine.ts): statuses, the card token, the last 4 digits, a
 * basic-key check and the cryptogram. Issuer keys, clear basic keys and clear PANs never leave it; each one
 * is wiped once its batch is done. It checks no value again: that was done at the boundaries (card-batch.ts).
 *
 * A payload naming an unknown or retired key id is opened under a dummy key, so it costs the same work as a
 * known key with a bad tag (no timing oracle on key ids); its status carries KEY_UNKNOWN or KEY_RETIRED.
 */
import { randomBytes } from 'node:crypto';
import {
  DVD1_CODE_FIELDS, DVD1_CRYPTOGRAM_SIZE, DVD1_ENROLLED_FIELDS, DVD1_ENROLLED_SIZE, DVD1_ENROLMENT_ID_SIZE, DVD1_FIELDS, DVD1_OPENED_FIELDS,
  DVD1_OPENED_SIZE, DVD1_PAYLOAD, DVD1_RECORD_SIZE,
} from '../core/dvd1-layout.ts';
import { isScanpayError } from '../core/errors.ts';
import type { CryptoCore, Dvd1PackedEnrolled, Dvd1PackedOpened, Dvd1PackedResult } from '../core/types.ts';
import {
  CODE_ANSWER_SIZE, CODE_REQUEST_SIZE, CODE_SIDE_FIELDS, CODE_SIDE_SIZE, ENROL_ANSWER_SIZE, ENROL_REQUEST_SIZE, ENROL_SIDE_FIELDS,
  ENROL_SIDE_SIZE, OPEN_ANSWER_SIZE, OPEN_REQUEST_SIZE, PIN_ANSWER_SIZE, PIN_REQUEST_SIZE, PIN_SIDE_FIELDS, PIN_SIDE_SIZE,
  decodeCodeAnswer, decodeEnrolmentAnswer, decodeOpenAnswer, decodePinAnswer, encodeCodeRequest, encodeEnrolmentRequest, encodeOpenRequest,
  encodePinRequest, packPinBatch, packSidedBatch, pinBatchParts, sidedBatchParts, writeCodeAnswer, writeEnrolmentAnswer, writeOpenAnswer,
  writePinAnswer,
} from './card-batch.ts';
import {
  CARD_STATUS, type CardOpening, type CodeCheck, type CodeChecked, type EnrolmentCheck, type EnrolmentChecked, type PinCheck, type PinChecked,
} from './card-engine.ts';
import { unwrapBasicKey, unwrapPan, wrapPan } from './card-secrets.ts';
import type { IssuerKeyRing } from './key-ring.ts';
import { payloadKeyId } from './payload.ts';

/** The DVD-1 batch functions over packed records: the WASM core's (default) or the node:crypto baseline's. */
export interface Dvd1Functions {
  dvd1OpenBatchPacked(packed: Uint8Array, count: number): Dvd1PackedOpened;
  dvd1BatchPacked(packed: Uint8Array, count: number): Dvd1PackedResult;
  dvd1CodeBatchPacked(packed: Uint8Array, count: number): Dvd1PackedResult;
  dvd1EnrolBatchPacked(packed: Uint8Array, enrolmentIds: Uint8Array, count: number): Dvd1PackedEnrolled;
}

/** A PAN no card has (its Luhn digit is wrong), hashed for a payload that did not open. */
const DUMMY_PAN = '0000000000000001';
const latin1 = new TextDecoder('latin1');
const [KEK_AT, KEK_SIZE] = DVD1_FIELDS.kek;
const [BASIC_KEY_AT, BASIC_KEY_SIZE] = DVD1_FIELDS.storedBasicKey;
const [PIN_AT, PIN_SIZE] = DVD1_FIELDS.pin;
const [CODE_PAN_AT, CODE_PAN_SIZE] = DVD1_CODE_FIELDS.pan;
const ENROLMENT_ID_AT = DVD1_CODE_FIELDS.signed[0] + 1; // a code's enrolment id follows its version byte

/** Zeroes the slots only the key holder fills (and the PIN) in each of `count` records. */
function wipeSecrets(records: Uint8Array, count: number): void {
  for (let at = 0; at < count * DVD1_RECORD_SIZE; at += DVD1_RECORD_SIZE) {
    records.fill(0, at + KEK_AT, at + KEK_AT + KEK_SIZE);
    records.fill(0, at + BASIC_KEY_AT, at + BASIC_KEY_AT + BASIC_KEY_SIZE);
    records.fill(0, at + PIN_AT, at + PIN_AT + PIN_SIZE);
  }
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

  /**
   * Writes the key to open the record at `at` under into its kek slot (a dummy key when the payload's key id
   * is unusable), and returns the key-state bits.
   */
  #putKek(records: Uint8Array, at: number): number {
    const key = this.#keyRing.lookupForOpening(payloadKeyId(records, at + DVD1_PAYLOAD[0]));
    records.set(typeof key === 'string' ? this.#dummyKey : key, at + KEK_AT);
    if (key === 'KEY_UNKNOWN') return CARD_STATUS.KEY_UNKNOWN;
    if (key === 'KEY_RETIRED') return CARD_STATUS.KEY_RETIRED;
    return 0;
  }

  /**
   * Unwraps the card row's basic key from the side area at `sideAt` into the storedBasicKey slot of the record
   * at `at`. A row altered or moved at rest leaves the slot zero (the batch runs, and fails it): BASIC_KEY.
   */
  #putStoredBasicKey(records: Uint8Array, at: number, sides: Uint8Array, sideAt: number): number {
    const field = ([offset, length]: readonly [number, number]) => sides.subarray(sideAt + offset, sideAt + offset + length);
    let basicKey: Uint8Array;
    try {
      basicKey = unwrapBasicKey(this.#core, this.#keyRing.storageKey, field(PIN_SIDE_FIELDS.cardToken), field(PIN_SIDE_FIELDS.wrappedBasicKey));
    } catch (e) {
      if (!isScanpayError(e, 'AEAD_TAG_INVALID')) throw e;
      return CARD_STATUS.BASIC_KEY;
    }
    records.set(basicKey, at + BASIC_KEY_AT);
    basicKey.fill(0);
    return 0;
  }

  /**
   * Unwraps the enrolment row's PAN from the code request's side area at `sideAt` into the PAN slot of the code record
   * at `at`, bound to the card token and the enrolment id the code names. One altered or moved leaves the slot zero
   * (the batch runs, and its Luhn check fails it): LUHN.
   */
  #putPan(records: Uint8Array, at: number, sides: Uint8Array, sideAt: number): number {
    const field = ([offset, length]: readonly [number, number]) => sides.subarray(sideAt + offset, sideAt + offset + length);
    const enrolmentId = records.subarray(at + ENROLMENT_ID_AT, at + ENROLMENT_ID_AT + DVD1_ENROLMENT_ID_SIZE);
    let pan: Uint8Array;
    try {
      pan = unwrapPan(this.#core, this.#keyRing.storageKey, field(CODE_SIDE_FIELDS.cardToken), enrolmentId, field(CODE_SIDE_FIELDS.wrappedPan));
    } catch (e) {
      if (!isScanpayError(e, 'AEAD_TAG_INVALID')) throw e;
      return CARD_STATUS.LUHN;
    }
    records.set(pan, at + CODE_PAN_AT);
    pan.fill(0);
    return 0;
  }

  /**
   * S22, DVD-1 steps 1–2 over `count` open requests (card-batch.ts) in one core call: the issuer keys go into
   * the records in place, and an answer per record into `answers` (count × OPEN_ANSWER_SIZE), in order.
   * The keys leave the records once the batch is done.
   */
  openBatch(records: Uint8Array, count: number, answers: Uint8Array): void {
    if (records.length !== count * OPEN_REQUEST_SIZE || answers.length !== count * OPEN_ANSWER_SIZE) throw new RangeError(`a batch of ${count} open requests and answers`);
    if (count === 0) return;
    const keyStatus = new Uint8Array(count);
    let opened: Uint8Array | undefined;
    try {
      for (let i = 0; i < count; i++) keyStatus[i] = this.#putKek(records, i * DVD1_RECORD_SIZE);
      const result = this.#dvd1.dvd1OpenBatchPacked(records, count);
      opened = result.opened;
      const { pan: [panAt, panSize], basicKey: [keyAt, keySize] } = DVD1_OPENED_FIELDS;
      for (let i = 0; i < count; i++) {
        const status = result.statuses[i]! | keyStatus[i]!;
        if (status !== 0) {
          // the same two keyed hashes an authentic payload costs, over nothing, so a forgery's answer comes as late
          this.#keyRing.basicKeyCheck(this.#keyRing.cardToken(DUMMY_PAN), this.#dummyKey);
          writeOpenAnswer(answers, i, status);
          continue;
        }
        const at = i * DVD1_OPENED_SIZE;
        const pan = latin1.decode(opened.subarray(at + panAt, at + panAt + panSize));
        const card = this.#keyRing.cardToken(pan);
        const basicKeyCheck = this.#keyRing.basicKeyCheck(card, opened.subarray(at + keyAt, at + keyAt + keySize));
        writeOpenAnswer(answers, i, status, { card, last4: pan.slice(-4), basicKeyCheck });
      }
    } finally {
      opened?.fill(0);
      wipeSecrets(records, count);
    }
  }

  /**
   * S25, the whole of DVD-1 over `count` counted attempts (a PIN batch, card-batch.ts) in one core call: the
   * issuer keys and the unwrapped basic keys go into the records in place, and an answer per record into
   * `answers` (count × PIN_ANSWER_SIZE), in order. The keys and PINs leave the records once the batch is done.
   */
  checkPinBatch(batch: Uint8Array, count: number, answers: Uint8Array): void {
    if (answers.length !== count * PIN_ANSWER_SIZE) throw new RangeError(`a batch of ${count} PIN answers is ${count * PIN_ANSWER_SIZE} bytes`);
    const { records, sides } = pinBatchParts(batch, count);
    if (count === 0) return;
    const extraStatus = new Uint8Array(count);
    try {
      for (let i = 0; i < count; i++) {
        const at = i * DVD1_RECORD_SIZE;
        extraStatus[i] = this.#putKek(records, at) | this.#putStoredBasicKey(records, at, sides, i * PIN_SIDE_SIZE);
      }
      const { cryptograms, statuses } = this.#dvd1.dvd1BatchPacked(records, count);
      for (let i = 0; i < count; i++) {
        const status = statuses[i]! | extraStatus[i]!;
        const at = i * DVD1_CRYPTOGRAM_SIZE;
        writePinAnswer(answers, i, status, status === 0 ? cryptograms.subarray(at, at + DVD1_CRYPTOGRAM_SIZE) : undefined);
      }
    } finally {
      wipeSecrets(records, count);
    }
  }

  /**
   * Wallet enrolments (card-batch.ts enrol requests) in one core call: checkPinBatch's checks, and for each that
   * passes its wallet key and its PAN wrapped for the enrolment row, into `answers` (count × ENROL_ANSWER_SIZE).
   * The keys, PINs, PANs and wallet keys leave the records and the core's outputs once the batch is done.
   */
  checkEnrolmentBatch(batch: Uint8Array, count: number, answers: Uint8Array): void {
    if (answers.length !== count * ENROL_ANSWER_SIZE) throw new RangeError(`a batch of ${count} enrolment answers is ${count * ENROL_ANSWER_SIZE} bytes`);
    const { records, sides } = sidedBatchParts(batch, count, ENROL_SIDE_SIZE);
    if (count === 0) return;
    const extraStatus = new Uint8Array(count);
    const ids = new Uint8Array(count * DVD1_ENROLMENT_ID_SIZE);
    let enrolled: Uint8Array | undefined;
    try {
      const [idAt, idSize] = ENROL_SIDE_FIELDS.enrolmentId;
      for (let i = 0; i < count; i++) {
        const at = i * DVD1_RECORD_SIZE;
        extraStatus[i] = this.#putKek(records, at) | this.#putStoredBasicKey(records, at, sides, i * ENROL_SIDE_SIZE);
        ids.set(sides.subarray(i * ENROL_SIDE_SIZE + idAt, i * ENROL_SIDE_SIZE + idAt + idSize), i * DVD1_ENROLMENT_ID_SIZE);
      }
      const result = this.#dvd1.dvd1EnrolBatchPacked(records, ids, count);
      enrolled = result.enrolled;
      const { walletKey: [keyAt, keySize], pan: [panAt, panSize] } = DVD1_ENROLLED_FIELDS;
      const [tokenAt, tokenSize] = ENROL_SIDE_FIELDS.cardToken;
      for (let i = 0; i < count; i++) {
        const status = result.statuses[i]! | extraStatus[i]!;
        if (status !== 0) {
          writeEnrolmentAnswer(answers, i, status);
          continue;
        }
        const at = i * DVD1_ENROLLED_SIZE;
        const side = i * ENROL_SIDE_SIZE;
        const wrappedPan = wrapPan(this.#core, this.#keyRing.storageKey, sides.subarray(side + tokenAt, side + tokenAt + tokenSize),
          ids.subarray(i * DVD1_ENROLMENT_ID_SIZE, (i + 1) * DVD1_ENROLMENT_ID_SIZE), enrolled.subarray(at + panAt, at + panAt + panSize));
        writeEnrolmentAnswer(answers, i, status, { walletKey: enrolled.subarray(at + keyAt, at + keyAt + keySize), wrappedPan });
      }
    } finally {
      enrolled?.fill(0);
      wipeSecrets(records, count);
    }
  }

  /**
   * One-time codes (card-batch.ts code requests) in one core call: the unwrapped basic keys and PANs go into the code
   * records in place, and an answer per record (status, and the cryptogram when it passed) into `answers`
   * (count × CODE_ANSWER_SIZE). Basic keys, PANs and PINs leave the records once the batch is done.
   */
  checkCodeBatch(batch: Uint8Array, count: number, answers: Uint8Array): void {
    if (answers.length !== count * CODE_ANSWER_SIZE) throw new RangeError(`a batch of ${count} code answers is ${count * CODE_ANSWER_SIZE} bytes`);
    const { records, sides } = sidedBatchParts(batch, count, CODE_SIDE_SIZE);
    if (count === 0) return;
    const extraStatus = new Uint8Array(count);
    try {
      for (let i = 0; i < count; i++) {
        const at = i * DVD1_RECORD_SIZE;
        const side = i * CODE_SIDE_SIZE;
        extraStatus[i] = this.#putStoredBasicKey(records, at, sides, side) | this.#putPan(records, at, sides, side);
      }
      const { cryptograms, statuses } = this.#dvd1.dvd1CodeBatchPacked(records, count);
      for (let i = 0; i < count; i++) {
        const status = statuses[i]! | extraStatus[i]!;
        const at = i * DVD1_CRYPTOGRAM_SIZE;
        writeCodeAnswer(answers, i, status, status === 0 ? cryptograms.subarray(at, at + DVD1_CRYPTOGRAM_SIZE) : undefined);
      }
    } finally {
      wipeSecrets(records, count);
      for (let at = 0; at < count * DVD1_RECORD_SIZE; at += DVD1_RECORD_SIZE) records.fill(0, at + CODE_PAN_AT, at + CODE_PAN_AT + CODE_PAN_SIZE);
    }
  }

  /** openBatch for payload bytes on this thread (the issuer's own process); answers in input order. */
  openCards(payloads: readonly Uint8Array[]): CardOpening[] {
    const records = new Uint8Array(payloads.length * OPEN_REQUEST_SIZE);
    payloads.forEach((payload, i) => encodeOpenRequest(payload, records, i * OPEN_REQUEST_SIZE));
    const answers = new Uint8Array(payloads.length * OPEN_ANSWER_SIZE);
    this.openBatch(records, payloads.length, answers);
    return payloads.map((_, i) => decodeOpenAnswer(answers, i));
  }

  /** checkPinBatch for PIN checks on this thread (the baseline engine); answers in input order. */
  checkPins(checks: readonly PinCheck[]): PinChecked[] {
    const requests = checks.map((check) => {
      const request = new Uint8Array(PIN_REQUEST_SIZE);
      encodePinRequest(check, request);
      return request;
    });
    const batch = packPinBatch(requests);
    try {
      const answers = new Uint8Array(checks.length * PIN_ANSWER_SIZE);
      this.checkPinBatch(batch, checks.length, answers);
      return checks.map((_, i) => decodePinAnswer(answers, i));
    } finally {
      batch.fill(0);
      for (const request of requests) request.fill(0);
    }
  }

  /** checkEnrolmentBatch for enrolments on this thread (the baseline engine); answers in input order. */
  checkEnrolments(checks: readonly EnrolmentCheck[]): EnrolmentChecked[] {
    return this.#runSided(checks, ENROL_REQUEST_SIZE, ENROL_SIDE_SIZE, ENROL_ANSWER_SIZE, encodeEnrolmentRequest,
      (batch, answers) => this.checkEnrolmentBatch(batch, checks.length, answers), decodeEnrolmentAnswer);
  }

  /** checkCodeBatch for codes on this thread (the baseline engine); answers in input order. */
  checkCodes(checks: readonly CodeCheck[]): CodeChecked[] {
    return this.#runSided(checks, CODE_REQUEST_SIZE, CODE_SIDE_SIZE, CODE_ANSWER_SIZE, encodeCodeRequest,
      (batch, answers) => this.checkCodeBatch(batch, checks.length, answers), decodeCodeAnswer);
  }

  /** Encodes each check, packs them as one batch, runs it and decodes the answers; every buffer is zeroed after. */
  #runSided<C, R>(
    checks: readonly C[], requestSize: number, sideSize: number, answerSize: number, encode: (check: C, request: Uint8Array) => void,
    run: (batch: Uint8Array, answers: Uint8Array) => void, decode: (answers: Uint8Array, i: number) => R,
  ): R[] {
    const requests = checks.map(() => new Uint8Array(requestSize));
    const answers = new Uint8Array(checks.length * answerSize);
    let batch: Uint8Array | undefined;
    try {
      checks.forEach((check, i) => encode(check, requests[i]!));
      batch = packSidedBatch(requests, sideSize);
      run(batch, answers);
      return checks.map((_, i) => decode(answers, i));
    } finally {
      batch?.fill(0);
      answers.fill(0);
      for (const request of requests) request.fill(0);
    }
  }
}
