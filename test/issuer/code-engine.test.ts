/**
 * Wallet enrolment and one-time codes in the crypto engine (issue 26): CardCrypto's enrolment and code batches
 * (issuer/card-crypto.ts, card-batch.ts), the node:crypto baseline on the same batches, and the worker pool
 * (gateway/pool) end to end.
 *  - an enrolment is a PIN check: a wrong PIN, an altered row, a forged payload fail with checkPin's bits and
 *    return no wallet key; a right one returns HKDF(basic key, "", "scanpay/v2/wallet-key" ‖ id) (recomputed here
 *    with node:crypto from the card's basic key) and the PAN wrapped for that card and enrolment;
 *  - a code from that wallet key passes, with the cryptogram checkPin gives the same session, merchant and amount;
 *    a tampered mac, step, counter, version or enrolment id, another card's basic key, a moved wrapped PAN, and a
 *    wrong PIN (when the PIN is taken) fail with their bits and no cryptogram;
 *  - the WASM engine and the node:crypto baseline answer the same, byte for byte, on random batches;
 *  - nothing secret is left in the records afterwards.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DVD1_CODE_FIELDS, DVD1_FIELDS, DVD1_RECORD_SIZE } from '../../core/dvd1-layout.ts';
import { loadCore } from '../../core/index.ts';
import { CODE_SIZE } from '../../core/one-time-code.ts';
import type { WasmCryptoCore } from '../../core/wasm-core.ts';
import { codeChecks, makeEnrolmentChecks, type EnrolmentFixture } from '../../bench/dvd1/code-checks.ts';
import { NODE_DVD1 } from '../../bench/baseline/node-crypto-engine.ts';
import { CryptoPool } from '../../gateway/pool/crypto-pool.ts';
import {
  CODE_ANSWER_SIZE, CODE_REQUEST_SIZE, CODE_SIDE_SIZE, ENROL_REQUEST_SIZE, encodeCodeRequest, encodeEnrolmentRequest, packSidedBatch, sidedBatchParts,
} from '../../issuer/card-batch.ts';
import { CardCrypto } from '../../issuer/card-crypto.ts';
import { CARD_STATUS, type CodeCheck, type CodeChecked, type EnrolmentChecked } from '../../issuer/card-engine.ts';
import { unwrapBasicKey, unwrapPan, wrapBasicKey } from '../../issuer/card-secrets.ts';
import { KeyRingSource } from '../../issuer/key-ring-source.ts';

const S = CARD_STATUS;
const hex = (bytes: Uint8Array | null) => (bytes ? Buffer.from(bytes).toString('hex') : null);
const idBytes = (id: string) => new Uint8Array(Buffer.from(id, 'hex'));

let core: WasmCryptoCore;
let fixture: EnrolmentFixture;
let wasm: CardCrypto;
let baseline: CardCrypto;
let enrolled: EnrolmentChecked[];
beforeAll(async () => {
  core = await loadCore();
  fixture = makeEnrolmentChecks(core, 8);
  wasm = new CardCrypto(core, fixture.keyRing);
  baseline = new CardCrypto(core, fixture.keyRing, NODE_DVD1);
  enrolled = wasm.checkEnrolments(fixture.enrolments);
});

function basicKeyOf(i: number): Uint8Array {
  const e = fixture.enrolments[i]!;
  return unwrapBasicKey(core, fixture.keyRing.storageKey, e.card, e.wrappedBasicKey);
}

describe('enrolment: a PIN check that returns the wallet key', () => {
  it('a right PIN: the wallet key of the card\'s basic key and the enrolment id, and the PAN wrapped for this card and enrolment', () => {
    enrolled.forEach((answer, i) => {
      expect(answer.ok, `enrolment ${i}`).toBe(true);
      const e = fixture.enrolments[i]!;
      const basicKey = basicKeyOf(i);
      const want = hkdfSync('sha256', basicKey, new Uint8Array(0), Buffer.concat([Buffer.from('scanpay/v2/wallet-key'), idBytes(e.enrolmentId)]), 32);
      basicKey.fill(0);
      expect(hex(answer.walletKey)).toBe(Buffer.from(want).toString('hex'));
      const pan = unwrapPan(core, fixture.keyRing.storageKey, e.card, idBytes(e.enrolmentId), answer.wrappedPan!);
      expect(new TextDecoder().decode(pan)).toMatch(/^400000\d{10}$/);
      expect(fixture.keyRing.cardToken(new TextDecoder().decode(pan))).toBe(e.card);
      // bound to the card and the enrolment: another id or token does not open it
      expect(() => unwrapPan(core, fixture.keyRing.storageKey, e.card, randomBytes(16), answer.wrappedPan!)).toThrow();
      expect(() => unwrapPan(core, fixture.keyRing.storageKey, fixture.enrolments[(i + 1) % 8]!.card, idBytes(e.enrolmentId), answer.wrappedPan!)).toThrow();
    });
  });

  it('a wrong PIN, an altered row, a forged payload: checkPin\'s bits, no wallet key, no wrapped PAN', () => {
    const e = fixture.enrolments;
    const altered = e[2]!.wrappedBasicKey.slice();
    altered[20] ^= 1;
    const forged = e[3]!.payload.slice();
    forged[30] ^= 1;
    const answers = wasm.checkEnrolments([
      { ...e[0]!, pin: e[0]!.pin === '0000' ? '0001' : '0000' },
      { ...e[1]!, enrolmentId: e[1]!.enrolmentId }, // right, amid wrong ones
      { ...e[2]!, wrappedBasicKey: altered },
      { ...e[3]!, payload: forged },
    ]);
    expect(answers.slice(0, 3).map((a) => a.status)).toEqual([S.PVV, 0, S.BASIC_KEY]);
    expect(answers[3]!.status & S.PAN_TAG).toBe(S.PAN_TAG); // (and PVV: the PIN is checked against the garbled PAN)
    for (const i of [0, 2, 3]) expect(answers[i]).toMatchObject({ ok: false, walletKey: null, wrappedPan: null });
    expect(hex(answers[1]!.walletKey)).toBe(hex(enrolled[1]!.walletKey));
  });

  it('the node:crypto baseline derives the same wallet keys and statuses', () => {
    const answers = baseline.checkEnrolments(fixture.enrolments);
    expect(answers.map((a) => [a.status, hex(a.walletKey)])).toEqual(enrolled.map((a) => [a.status, hex(a.walletKey)]));
    // the wrapped PAN has a fresh nonce each time; both open to the same PAN
    answers.forEach((a, i) => {
      const e = fixture.enrolments[i]!;
      const open = (w: Uint8Array) => hex(unwrapPan(core, fixture.keyRing.storageKey, e.card, idBytes(e.enrolmentId), w));
      expect(open(a.wrappedPan!)).toBe(open(enrolled[i]!.wrappedPan!));
    });
  });
});

describe('one-time codes: the DVD-1 code record through CardCrypto', () => {
  it('a code stands in for the PIN: passes, with checkPin\'s cryptogram for the same session, merchant and amount', () => {
    const checks = codeChecks(core, fixture, enrolled);
    const answers = wasm.checkCodes(checks);
    const pins = wasm.checkPins(fixture.pins);
    answers.forEach((answer, i) => {
      expect(answer.ok, `code ${i}`).toBe(true);
      expect(pins[i]!.status).toBe(0);
      expect(hex(answer.cryptogram)).toBe(hex(pins[i]!.cryptogram));
    });
  });

  it('with the PIN taken too: the right PIN passes, a wrong one fails PVV', () => {
    const checks = codeChecks(core, fixture, enrolled, { withPin: true });
    const wrong = checks.map((c) => ({ ...c, pin: c.pin === '0000' ? '0001' : '0000' }));
    expect(wasm.checkCodes(checks).map((a) => a.status)).toEqual(checks.map(() => 0));
    expect(wasm.checkCodes(wrong).map((a) => a.status)).toEqual(checks.map(() => S.PVV));
  });

  it('every tamper fails with its bit and no cryptogram', () => {
    const [c0, c1, c2, c3, c4, c5, c6, c7] = codeChecks(core, fixture, enrolled);
    const flip = (check: CodeCheck, at: number, bit = 1): CodeCheck => {
      const code = check.code.slice();
      code[at] ^= bit;
      return { ...check, code };
    };
    // another card's basic key, wrapped for this card's token (a row moved or replaced at rest, but authentic)
    const otherKey = basicKeyOf(7);
    const otherRow = wrapBasicKey(core, fixture.keyRing.storageKey, c6!.card, otherKey);
    otherKey.fill(0);
    const altered = c7!.wrappedBasicKey.slice();
    altered[30] ^= 1;
    const cases: [string, CodeCheck, number][] = [
      ['mac', flip(c0!, 40), S.CODE_MAC],
      ['step', flip(c1!, 20), S.CODE_MAC],
      ['counter', flip(c2!, 24), S.CODE_MAC],
      ['enrolment id', flip(c3!, 5, 0x40), S.CODE_MAC | S.LUHN], // the wrapped PAN is bound to the id the code names
      ['version', flip(c4!, 0, 3), S.CODE_MAC],
      ['wrapped PAN of another enrolment', { ...c5!, wrappedPan: enrolled[4]!.wrappedPan! }, S.LUHN],
      ['another card\'s basic key', { ...c6!, wrappedBasicKey: otherRow }, S.CODE_MAC],
      ['row altered at rest', { ...c7!, wrappedBasicKey: altered }, S.BASIC_KEY | S.CODE_MAC],
      ['clean', c0!, 0],
    ];
    const answers = wasm.checkCodes(cases.map(([, check]) => check));
    cases.forEach(([name, , status], i) => {
      expect(answers[i]!.status, name).toBe(status);
      expect(answers[i]!.ok, name).toBe(status === 0);
      if (status !== 0) expect(answers[i]!.cryptogram, name).toBeNull();
    });
    expect(baseline.checkCodes(cases.map(([, check]) => check)).map((a) => [a.status, hex(a.cryptogram)]))
      .toEqual(answers.map((a) => [a.status, hex(a.cryptogram)]));
  });

  it('random batches: the WASM engine and the node:crypto baseline answer byte for byte the same', () => {
    for (const size of [1, 3, 8]) {
      const checks = codeChecks(core, fixture, enrolled, { withPin: size === 3 }).slice(0, size).map((c, i) => {
        if (i % 2 === 0) return c;
        const code = c.code.slice();
        code[1 + (i % 40)] ^= 1 << (i % 8);
        return { ...c, code };
      });
      const a = wasm.checkCodes(checks);
      const b = baseline.checkCodes(checks);
      expect(b.map((x) => [x.status, hex(x.cryptogram)])).toEqual(a.map((x) => [x.status, hex(x.cryptogram)]));
      expect(a.filter((x) => x.ok).length).toBe(Math.ceil(size / 2));
    }
  });

  it('leaves no basic key, PAN or PIN in the records; a request of the wrong shape is a RangeError', () => {
    const checks = codeChecks(core, fixture, enrolled, { withPin: true });
    const requests = checks.map((c) => {
      const r = new Uint8Array(CODE_REQUEST_SIZE);
      encodeCodeRequest(c, r);
      return r;
    });
    const batch = packSidedBatch(requests, CODE_SIDE_SIZE);
    const answers = new Uint8Array(checks.length * CODE_ANSWER_SIZE);
    wasm.checkCodeBatch(batch, checks.length, answers);
    const { records } = sidedBatchParts(batch, checks.length, CODE_SIDE_SIZE);
    for (let i = 0; i < checks.length; i++) {
      for (const [offset, length] of [DVD1_FIELDS.storedBasicKey, DVD1_FIELDS.pin, DVD1_CODE_FIELDS.pan]) {
        const at = i * DVD1_RECORD_SIZE + offset;
        expect(records.subarray(at, at + length).every((b) => b === 0)).toBe(true);
      }
    }
    expect(() => encodeCodeRequest({ ...checks[0]!, code: new Uint8Array(CODE_SIZE - 1) }, new Uint8Array(CODE_REQUEST_SIZE))).toThrow(/code/);
    expect(() => encodeCodeRequest({ ...checks[0]!, wrappedPan: new Uint8Array(3) }, new Uint8Array(CODE_REQUEST_SIZE))).toThrow(/wrapped PAN/);
    expect(() => encodeEnrolmentRequest({ ...fixture.enrolments[0]!, enrolmentId: 'xyz' }, new Uint8Array(ENROL_REQUEST_SIZE))).toThrow(/enrolment id/);
  });
});

describe('the worker pool: checkEnrolment and checkCode, batched', () => {
  let pool: CryptoPool;
  const batches: [string, number][] = [];
  beforeAll(() => {
    pool = new CryptoPool({ keys: KeyRingSource.inline(fixture.keyRing), threads: 1, batch: { maxItems: 64, windowMs: 2 }, onBatch: (kind, n) => batches.push([kind, n]) });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('answers as CardCrypto inline does; concurrent requests share batches', async () => {
    const viaPool = await Promise.all(fixture.enrolments.map((e) => pool.checkEnrolment(e)));
    expect(viaPool.map((a) => [a.status, hex(a.walletKey)])).toEqual(enrolled.map((a) => [a.status, hex(a.walletKey)]));
    const checks = codeChecks(core, fixture, viaPool);
    const codes: CodeChecked[] = await Promise.all(checks.map((c) => pool.checkCode(c)));
    expect(codes.map((a) => [a.status, hex(a.cryptogram)])).toEqual(wasm.checkCodes(checks).map((a) => [a.status, hex(a.cryptogram)]));
    expect(codes.every((a) => a.ok)).toBe(true);
    const forged = { ...checks[0]!, code: checks[0]!.code.map((b, i) => (i === 30 ? b ^ 1 : b)) };
    expect(await pool.checkCode(forged)).toEqual({ ok: false, status: S.CODE_MAC, cryptogram: null });
    expect(batches.some(([kind, n]) => kind === 'enrol' && n > 1)).toBe(true);
    expect(batches.some(([kind, n]) => kind === 'code' && n > 1)).toBe(true);
  });

  it('a request of the wrong shape is refused alone, its neighbours answered', async () => {
    const checks = codeChecks(core, fixture, enrolled);
    const results = await Promise.allSettled([pool.checkCode(checks[0]!), pool.checkCode({ ...checks[1]!, sessionId: 'nope' }), pool.checkCode(checks[2]!)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});
