/**
 * The crypto engine's batch format (issuer/card-batch.ts) and CardCrypto on it (issuer/card-crypto.ts):
 *  - a PIN request is written once, straight into the DVD-1 record the object API would pack for the same
 *    values (merchant as merchantBytes binds it, session id as its 16 bytes, amount as the u64), with kek and
 *    storedBasicKey left for the key holder, and the wrapped basic key and the card token's text beside it;
 *  - a batch is its records side by side, then their side areas; a request alone is a batch of one;
 *  - a field of the wrong size is a RangeError naming the field, never its value;
 *  - CardCrypto fills in the keys in place and answers as the object API (core.dvd1Batch) and as the
 *    node:crypto baseline's packed batch do, for right and wrong PINs, rows altered or moved at rest, forged
 *    payloads and unknown and retired key ids; the keys and PINs are gone from the records afterwards;
 *  - openBatch answers with the card token, the last 4 digits and the basic-key check the key ring computes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DVD1_FIELDS, DVD1_RECORD_SIZE, encodeDvd1Record } from '../../core/dvd1-layout.ts';
import { loadCore } from '../../core/index.ts';
import type { WasmCryptoCore } from '../../core/wasm-core.ts';
import { makePinChecks } from '../../bench/dvd1/pin-checks.ts';
import { dvd1BatchPacked, dvd1CodeBatchPacked, dvd1EnrolBatchPacked, dvd1OpenBatchPacked } from '../../bench/dvd1/node-crypto.ts';
import {
  OPEN_ANSWER_SIZE, OPEN_REQUEST_SIZE, PIN_ANSWER_SIZE, PIN_REQUEST_SIZE, PIN_SIDE_SIZE, decodeOpenAnswer, decodePinAnswer,
  encodeOpenRequest, encodePinRequest, packPinBatch, pinBatchParts,
} from '../../issuer/card-batch.ts';
import { CardCrypto } from '../../issuer/card-crypto.ts';
import { CARD_STATUS, type PinCheck, type PinChecked } from '../../issuer/card-engine.ts';
import { unwrapBasicKey, wrapBasicKey } from '../../issuer/card-secrets.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { parsePayload } from '../../issuer/payload.ts';
import { merchantBytes } from '../../protocol/values.ts';

const ascii = (text: string) => new Uint8Array(Buffer.from(text, 'latin1'));
const hex = (bytes: Uint8Array | null) => (bytes ? Buffer.from(bytes).toString('hex') : null);
const S = CARD_STATUS;

function pinRequest(check: PinCheck): Uint8Array {
  const request = new Uint8Array(PIN_REQUEST_SIZE);
  encodePinRequest(check, request);
  return request;
}

let core: WasmCryptoCore;
beforeAll(async () => {
  core = await loadCore();
});

describe('a PIN request is written once, into its DVD-1 record', () => {
  it('the record is the one the object API packs for the same values, kek and storedBasicKey zero; the side area holds the wrapped key and the token text', () => {
    const { checks } = makePinChecks(core, 3);
    const variants: PinCheck[] = [
      checks[0]!,
      { ...checks[1]!, merchant: 'a', amount: 1 },
      { ...checks[2]!, merchant: 'shop.0123456789_', amount: Number.MAX_SAFE_INTEGER }, // 16 characters
    ];
    for (const check of variants) {
      const request = pinRequest(check);
      const expected = new Uint8Array(DVD1_RECORD_SIZE);
      encodeDvd1Record({
        kek: new Uint8Array(32), ...parsePayload(check.payload).fields, storedBasicKey: new Uint8Array(32), storedPvv: check.pvv,
        pin: ascii(check.pin), sid: new Uint8Array(Buffer.from(check.sessionId, 'hex')), merchant: merchantBytes(check.merchant), amount: BigInt(check.amount),
      }, expected, 0);
      expect(hex(request.subarray(0, DVD1_RECORD_SIZE))).toBe(hex(expected));
      expect(hex(request.subarray(DVD1_RECORD_SIZE))).toBe(hex(check.wrappedBasicKey) + Buffer.from(check.card, 'latin1').toString('hex'));
    }
  });

  it('an open request is the payload in its slots and zero elsewhere', () => {
    const { checks } = makePinChecks(core, 1);
    const record = new Uint8Array(OPEN_REQUEST_SIZE);
    encodeOpenRequest(checks[0]!.payload, record);
    const expected = new Uint8Array(DVD1_RECORD_SIZE);
    encodeDvd1Record({
      kek: new Uint8Array(32), ...parsePayload(checks[0]!.payload).fields, storedBasicKey: new Uint8Array(32), storedPvv: new Uint8Array(32),
      pin: new Uint8Array(4), sid: new Uint8Array(16), merchant: new Uint8Array(16), amount: 0n,
    }, expected, 0);
    expect(hex(record)).toBe(hex(expected));
  });

  it('a batch is its records side by side, then their side areas; a request alone is a batch of one', () => {
    const { checks } = makePinChecks(core, 3);
    const requests = checks.map(pinRequest);
    const batch = packPinBatch(requests);
    const { records, sides } = pinBatchParts(batch, 3);
    requests.forEach((request, i) => {
      expect(hex(records.subarray(i * DVD1_RECORD_SIZE, (i + 1) * DVD1_RECORD_SIZE))).toBe(hex(request.subarray(0, DVD1_RECORD_SIZE)));
      expect(hex(sides.subarray(i * PIN_SIDE_SIZE, (i + 1) * PIN_SIDE_SIZE))).toBe(hex(request.subarray(DVD1_RECORD_SIZE)));
    });
    expect(hex(packPinBatch([requests[0]!]))).toBe(hex(requests[0]!));
    expect(() => pinBatchParts(batch, 2)).toThrow(RangeError);
  });

  it('a field of the wrong size is a RangeError naming the field, never its value', () => {
    const [check] = makePinChecks(core, 1).checks;
    const cases: [Partial<PinCheck>, RegExp, string][] = [
      [{ pin: '12345' }, /PIN/, '12345'],
      [{ sessionId: 'abcdef' }, /session id/, 'abcdef'],
      [{ sessionId: 'zz'.repeat(16) }, /session id/, 'zz'.repeat(16)],
      [{ merchant: 'm'.repeat(17) }, /merchant/, 'm'.repeat(17)],
      [{ card: 'ab' }, /card token/, 'ab'],
      [{ payload: check!.payload.subarray(1) }, /payload/, ''],
      [{ wrappedBasicKey: check!.wrappedBasicKey.subarray(1) }, /wrapped basic key/, ''],
      [{ pvv: new Uint8Array(31) }, /pvv/, ''],
    ];
    for (const [patch, name, value] of cases) {
      let error: unknown;
      try {
        pinRequest({ ...check!, ...patch });
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(Object.keys(patch))).toBeInstanceOf(RangeError);
      expect((error as Error).message).toMatch(name);
      if (value) expect((error as Error).message).not.toContain(value);
    }
    expect(() => pinRequest({ ...check!, pin: '123' }), 'a short PIN').toThrow(RangeError);
  });
});

describe('CardCrypto on a batch: the keys go into the records in place', () => {
  let ring: IssuerKeyRing;
  let checks: PinCheck[];
  let expected: { status: number; exact: boolean; cryptogram: string | null }[];

  beforeAll(() => {
    ring = IssuerKeyRing.generate();
    const retired = makePinChecks(core, 1, ring).checks; // under key 1
    ring.rotate();
    const good = makePinChecks(core, 6, ring).checks; // under key 2
    ring.retire(1);
    const unknownKey = good[5]!.payload.slice();
    unknownKey[2] = 99; // header key id 2 → 99
    const forged = good[4]!.payload.slice();
    forged[30] ^= 1; // in c1
    const tamperedRow = good[2]!.wrappedBasicKey.slice();
    tamperedRow[20] ^= 1;
    const pan = (check: PinCheck) => {
      const [opened] = core.dvd1OpenBatch([{ kek: ring.keyForOpening(parsePayload(check.payload).keyId), ...parsePayload(check.payload).fields }]);
      opened!.basicKey!.fill(0);
      return new TextDecoder().decode(opened!.pan!);
    };
    // a row moved from another card: wrapped for good[0]'s token, stored under good[3]'s
    const basicKey0 = unwrapBasicKey(core, ring.storageKey, good[0]!.card, good[0]!.wrappedBasicKey);
    const moved = wrapBasicKey(core, ring.storageKey, good[0]!.card, basicKey0);
    basicKey0.fill(0);
    expect(pan(good[0]!)).toHaveLength(16);
    checks = [
      good[0]!, // right PIN
      { ...good[1]!, pin: good[1]!.pin === '0000' ? '0001' : '0000' }, // wrong PIN
      { ...good[2]!, wrappedBasicKey: tamperedRow }, // row altered at rest
      { ...good[3]!, wrappedBasicKey: moved }, // row moved from another card
      { ...good[4]!, payload: forged },
      { ...good[5]!, payload: unknownKey },
      retired[0]!,
      { ...good[0]!, merchant: 'shop.0123456789_', amount: Number.MAX_SAFE_INTEGER },
    ];
    // the object API on records built from the same values, the way the worker used to build them
    expected = checks.map((check) => {
      const payload = parsePayload(check.payload);
      const kek = ring.lookupForOpening(payload.keyId);
      if (typeof kek === 'string') return { status: kek === 'KEY_UNKNOWN' ? S.KEY_UNKNOWN : S.KEY_RETIRED, exact: false, cryptogram: null };
      let storedBasicKey: Uint8Array = new Uint8Array(32);
      let rowStatus = 0;
      try {
        storedBasicKey = unwrapBasicKey(core, ring.storageKey, check.card, check.wrappedBasicKey);
      } catch {
        rowStatus = S.BASIC_KEY;
      }
      const [result] = core.dvd1Batch([{
        kek, ...payload.fields, storedBasicKey, storedPvv: check.pvv, pin: ascii(check.pin), sid: new Uint8Array(Buffer.from(check.sessionId, 'hex')),
        merchant: merchantBytes(check.merchant), amount: BigInt(check.amount),
      }]);
      storedBasicKey.fill(0);
      const status = result!.status | rowStatus;
      return { status, exact: true, cryptogram: status === 0 ? hex(result!.cryptogram) : null };
    });
  });

  function run(crypto: CardCrypto): { answers: PinChecked[]; batch: Uint8Array } {
    const batch = packPinBatch(checks.map(pinRequest));
    const answers = new Uint8Array(checks.length * PIN_ANSWER_SIZE);
    crypto.checkPinBatch(batch, checks.length, answers);
    return { answers: checks.map((_, i) => decodePinAnswer(answers, i)), batch };
  }

  it('answers as the object API does, for every kind of attempt', () => {
    const { answers } = run(new CardCrypto(core, ring));
    expect(answers.map((a) => a.status)).toEqual([0, S.PVV, S.BASIC_KEY, S.BASIC_KEY, expect.any(Number), expect.any(Number), expect.any(Number), 0]);
    answers.forEach((answer, i) => {
      const want = expected[i]!;
      if (want.exact) expect(answer.status, `attempt ${i}`).toBe(want.status);
      else expect(answer.status & want.status, `attempt ${i}: key state`).toBe(want.status);
      expect(hex(answer.cryptogram), `attempt ${i}`).toBe(want.cryptogram);
    });
    expect(answers[4]!.status & S.PAN_TAG).toBe(S.PAN_TAG); // c1's ciphertext: tag1 fails
    expect(answers[5]!.status & (S.PAN_TAG | S.KEY_TAG)).toBe(S.PAN_TAG | S.KEY_TAG); // opened under the dummy key
    expect(answers[6]!.status & (S.PAN_TAG | S.KEY_TAG)).toBe(S.PAN_TAG | S.KEY_TAG);
    expect(answers[0]!.cryptogram).not.toEqual(answers[7]!.cryptogram); // merchant and amount are bound into it
  });

  it('the node:crypto baseline on the same batch answers the same, byte for byte', () => {
    const wasm = run(new CardCrypto(core, ring)).answers;
    const baseline = run(new CardCrypto(core, ring, { dvd1BatchPacked, dvd1OpenBatchPacked, dvd1CodeBatchPacked, dvd1EnrolBatchPacked })).answers;
    expect(baseline.map((a) => [a.status, hex(a.cryptogram)])).toEqual(wasm.map((a) => [a.status, hex(a.cryptogram)]));
  });

  it('leaves no issuer key, basic key or PIN in the records', () => {
    const { batch } = run(new CardCrypto(core, ring));
    const { records } = pinBatchParts(batch, checks.length);
    for (let i = 0; i < checks.length; i++) {
      for (const name of ['kek', 'storedBasicKey', 'pin'] as const) {
        const [offset, length] = DVD1_FIELDS[name];
        const at = i * DVD1_RECORD_SIZE + offset;
        expect(records.subarray(at, at + length).every((b) => b === 0), `record ${i} ${name}`).toBe(true);
      }
    }
  });

  it('openBatch answers with the token, last 4 and basic-key check of the key ring; forged, unknown and retired payloads with their bits only', () => {
    const payloads = checks.map((c) => c.payload);
    const records = new Uint8Array(payloads.length * OPEN_REQUEST_SIZE);
    payloads.forEach((p, i) => encodeOpenRequest(p, records, i * OPEN_REQUEST_SIZE));
    const answers = new Uint8Array(payloads.length * OPEN_ANSWER_SIZE);
    new CardCrypto(core, ring).openBatch(records, payloads.length, answers);
    const openings = payloads.map((_, i) => decodeOpenAnswer(answers, i));
    for (const i of [0, 1, 2, 3]) {
      const check = checks[i]!;
      const [opened] = core.dvd1OpenBatch([{ kek: ring.keyForOpening(2), ...parsePayload(check.payload).fields }]);
      const pan = new TextDecoder().decode(opened!.pan!);
      expect(openings[i]).toEqual({ status: 0, card: ring.cardToken(pan), last4: pan.slice(-4), basicKeyCheck: ring.basicKeyCheck(ring.cardToken(pan), opened!.basicKey!) });
      opened!.basicKey!.fill(0);
    }
    expect(openings[4]).toMatchObject({ card: null, last4: null, basicKeyCheck: null });
    expect(openings[4]!.status & S.PAN_TAG).toBe(S.PAN_TAG);
    expect(openings[5]!.status & S.KEY_UNKNOWN).toBe(S.KEY_UNKNOWN);
    expect(openings[6]!.status & S.KEY_RETIRED).toBe(S.KEY_RETIRED);
    for (let i = 0; i < payloads.length; i++) expect(records.subarray(i * DVD1_RECORD_SIZE, i * DVD1_RECORD_SIZE + 32).every((b) => b === 0), `kek ${i}`).toBe(true);
    // the object wrapper (the issuer's own process) gives the same answers
    expect(new CardCrypto(core, ring).openCards(payloads).map((o) => o.status)).toEqual(openings.map((o) => o.status));
  });
});
