/**
 * The DVD-1 code record (dvd1CodeBatch) and the enrolment (dvd1EnrolBatch), both builds, against the node:crypto
 * reference (bench/baseline/node-crypto-dvd1.ts) on seeded random cases in batches of 1, 3, 64 and 200 with
 * tampered records mixed in: each tamper (mac, version, enrolment id, step, counter, basic key, PAN, PIN) fails
 * alone with its status bit and a zero cryptogram, its neighbours pass; a passing code's cryptogram is the PIN
 * record's for the same card and payment. Enrolment: exactly dvd1Batch's statuses, and the wallet key and PAN
 * only for the records that passed.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CORE_SCALAR_WASM_PATH, CORE_WASM_PATH, DVD1_ENROLLED_SIZE, DVD1_RECORD_SIZE, DVD1_STATUS, encodeDvd1CodeRecord, encodeDvd1Record,
  instantiateCoreSync, isScanpayError, type WasmCryptoCore,
} from '../../core/index.ts';
import { readFileSync } from 'node:fs';
import { CODE_TAMPERS, CODE_TAMPER_STATUS, makeCodeCases, walletKeyOf } from '../../bench/dvd1/code-records.ts';
import { makeDvd1Cases } from '../../bench/dvd1/records.ts';
import { dvd1, dvd1Code, dvd1EnrolBatchPacked } from '../../bench/baseline/node-crypto-dvd1.ts';

const hex = (b: Uint8Array | null): string | null => (b ? Buffer.from(b).toString('hex') : null);
const builds = [['SIMD', CORE_WASM_PATH], ['scalar', CORE_SCALAR_WASM_PATH]] as const;
const cores: Record<string, WasmCryptoCore> = {};
beforeAll(() => {
  for (const [name, path] of builds) cores[name] = instantiateCoreSync(readFileSync(path));
});

describe.each(builds)('%s build: code records', (build) => {
  it.each([1, 3, 64, 200])('batch of %i, every tamper mixed in, with and without the PIN: equal to node:crypto', (n) => {
    for (const withPin of [false, true]) {
      const cases = makeCodeCases(n, { seed: n * 7 + (withPin ? 1 : 0), withPin, tamper: (i) => (i % 4 === 3 ? CODE_TAMPERS[(i >> 2) % CODE_TAMPERS.length] : undefined) });
      const results = cores[build]!.dvd1CodeBatch(cases.map((c) => c.record));
      const packed = new Uint8Array(n * DVD1_RECORD_SIZE);
      cases.forEach((c, i) => encodeDvd1CodeRecord(c.record, packed, i * DVD1_RECORD_SIZE));
      const fromPacked = cores[build]!.dvd1CodeBatchPacked(packed, n);
      cases.forEach((c, i) => {
        const ref = dvd1Code(c.record);
        // a basic key or PAN that is not the card's also fails the PVV, when the PIN is checked
        const pvvToo = withPin && (c.tamper === 'basic-key' || c.tamper === 'pan' || c.tamper === 'no-pan');
        const want = (c.tamper === undefined ? 0 : CODE_TAMPER_STATUS[c.tamper]) | (pvvToo ? DVD1_STATUS.PVV : 0);
        expect(results[i]!.status, `record ${i} (${c.tamper ?? 'clean'})`).toBe(want);
        expect(ref.status).toBe(want);
        expect(hex(results[i]!.cryptogram)).toBe(hex(ref.cryptogram));
        expect(fromPacked.statuses[i]).toBe(want);
        expect(hex(fromPacked.cryptograms.subarray(i * 32, i * 32 + 32))).toBe(hex(ref.cryptogram));
        if (want !== 0) expect(results[i]!.cryptogram.every((x) => x === 0)).toBe(true);
      });
      expect(fromPacked.passed).toBe(results.filter((r) => r.ok).length);
      expect(packed.some((x) => x !== 0), 'the caller\'s packed copy is left as it is').toBe(true);
    }
  });

  it('a wrong PIN fails only a record that carries the PIN (withPin); without it the code stands in', () => {
    const [withoutPin] = makeCodeCases(1, { seed: 9 });
    withoutPin!.record.pin = new TextEncoder().encode('0000');
    expect(cores[build]!.dvd1CodeBatch([withoutPin!.record])[0]!.status).toBe(0);
    withoutPin!.record.withPin = true;
    const status = cores[build]!.dvd1CodeBatch([withoutPin!.record])[0]!.status;
    expect(status === DVD1_STATUS.PVV || hex(withoutPin!.pin) === hex(new TextEncoder().encode('0000'))).toBe(true);
  });

  it('a passing code gives the PIN record\'s cryptogram for the same card, session, merchant and amount', () => {
    const cards = makeDvd1Cases(5, { seed: 33 });
    const codes = makeCodeCases(5, { seed: 33, withPin: true });
    const pinResults = cores[build]!.dvd1Batch(cards.map((c) => c.record));
    const codeResults = cores[build]!.dvd1CodeBatch(codes.map((c) => c.record));
    for (let i = 0; i < 5; i++) {
      expect(pinResults[i]!.ok && codeResults[i]!.ok).toBe(true);
      expect(hex(codeResults[i]!.cryptogram)).toBe(hex(pinResults[i]!.cryptogram));
      expect(hex(codeResults[i]!.cryptogram)).toBe(hex(dvd1(cards[i]!.record).cryptogram));
    }
  });

  it('bad code-record fields are typed errors before the module runs', () => {
    const [c] = makeCodeCases(1, { seed: 2 });
    const codeOf = (patch: object): string => {
      try {
        cores[build]!.dvd1CodeBatch([{ ...c!.record, ...patch }]);
        return 'none';
      } catch (e) {
        return isScanpayError(e) ? e.code : String(e);
      }
    };
    expect(codeOf({ code: new Uint8Array(40) })).toBe('BAD_LENGTH');
    expect(codeOf({ pan: 'x' })).toBe('BAD_ARGUMENT');
    expect(codeOf({ withPin: 1 })).toBe('BAD_ARGUMENT');
    expect(codeOf({ amount: -1n })).toBe('BAD_ARGUMENT');
    expect(codeOf({})).toBe('none');
  });
});

describe.each(builds)('%s build: enrolment', (build) => {
  it.each([1, 3, 64])('batch of %i with bad records mixed in: dvd1Batch\'s statuses; wallet key and PAN only when passed', (n) => {
    const cases = makeDvd1Cases(n, { seed: 40 + n, badEvery: 2 });
    const packed = new Uint8Array(n * DVD1_RECORD_SIZE);
    cases.forEach((c, i) => encodeDvd1Record(c.record, packed, i * DVD1_RECORD_SIZE));
    const ids = new Uint8Array(randomBytes(n * 16));
    const core = cores[build]!;
    const got = core.dvd1EnrolBatchPacked(packed, ids, n);
    const ref = dvd1EnrolBatchPacked(packed, ids, n);
    const pinStatuses = core.dvd1BatchPacked(packed, n).statuses;
    expect(hex(got.statuses)).toBe(hex(pinStatuses));
    expect(hex(got.statuses)).toBe(hex(ref.statuses));
    expect(hex(got.enrolled)).toBe(hex(ref.enrolled));
    expect(got.passed).toBe(ref.passed);
    cases.forEach((c, i) => {
      const out = got.enrolled.subarray(i * DVD1_ENROLLED_SIZE, (i + 1) * DVD1_ENROLLED_SIZE);
      if (got.statuses[i] === 0) {
        expect(hex(out.subarray(0, 32))).toBe(hex(walletKeyOf(c.basicKey, ids.subarray(i * 16, i * 16 + 16))));
        expect(hex(out.subarray(32))).toBe(hex(c.pan));
      } else {
        expect(out.every((x) => x === 0)).toBe(true);
      }
    });
    expect(got.passed).toBeGreaterThan(0);
  });

  it('enrolment ids of the wrong length: BAD_LENGTH, nothing runs', () => {
    const packed = new Uint8Array(2 * DVD1_RECORD_SIZE);
    expect(() => cores[build]!.dvd1EnrolBatchPacked(packed, new Uint8Array(31), 2)).toThrow(/enrolmentIds/);
  });
});
