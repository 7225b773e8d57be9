/**
 * The three DVD-1 bench anchors (node:crypto, libsodium, noble) must agree with each other and
 * with the spec, since the bench uses them as the yardstick for the WASM core's dvd1Batch. The node:crypto
 * one is also the baseline engine's DVD-1, which takes packed records as the core does: its packed batch
 * answers as its record-by-record run.
 */
import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DVD1_OPENED_SIZE, DVD1_RECORD_SIZE, encodeDvd1Record } from '../../core/dvd1-layout.ts';
import { DVD1_STATUS, type Dvd1Result } from '../../core/types.ts';
import { firstDifference } from '../../bench/dvd1/compare.ts';
import * as libsodium from '../../bench/dvd1/libsodium.ts';
import * as nodeCrypto from '../../bench/dvd1/node-crypto.ts';
import * as noble from '../../bench/dvd1/noble.ts';
import { type Corruption, type Dvd1Case, encodeAmount, makeDvd1Cases, PIN_LABEL, TXN_LABEL } from '../../bench/dvd1/records.ts';

const S = DVD1_STATUS;

/** What each corruption must report. tag1 is part of tag2's AAD, so a bad tag1 or hdr fails both tags. */
const EXPECTED_STATUS: Record<Corruption, number> = {
  'pan-tag': S.PAN_TAG | S.KEY_TAG,
  'key-ciphertext': S.KEY_TAG | S.BASIC_KEY | S.PVV,
  'stored-basic-key': S.BASIC_KEY,
  pin: S.PVV,
  luhn: S.LUHN,
  hdr: S.PAN_TAG | S.KEY_TAG,
};

const hmac = (key: Uint8Array, ...parts: Uint8Array[]): Buffer =>
  parts.reduce((h, part) => h.update(part), createHmac('sha256', key)).digest();

/** HKDF-SHA256 per RFC 5869 §2.2–2.3 for L = 32 (one block), written out rather than via hkdfSync. */
function hkdf32(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array): Buffer {
  const prk = hmac(salt.length > 0 ? salt : new Uint8Array(32), ikm);
  return hmac(prk, info, Uint8Array.of(1));
}

/** DVD-1 step 5 from the plaintexts the generator encrypted. */
function expectedCryptogram({ record: r, pan, basicKey }: Dvd1Case): Buffer {
  const amount = encodeAmount(r.amount);
  const kTxn = hkdf32(basicKey, r.sid, Buffer.concat([Buffer.from(TXN_LABEL), r.merchant, amount]));
  return hmac(kTxn, r.sid, r.merchant, amount, pan);
}

describe('DVD-1 anchors on 200 records, every third corrupted', () => {
  const cases = makeDvd1Cases(200, { seed: 7, badEvery: 3 });
  const records = cases.map((c) => c.record);
  let results: Dvd1Result[];

  beforeAll(async () => {
    await libsodium.init();
    results = nodeCrypto.run(records);
  });

  it('agree with each other', () => {
    expect(firstDifference(results, noble.run(records))).toBeUndefined();
    expect(firstDifference(results, libsodium.run(records))).toBeUndefined();
  });

  it('node:crypto on the same records packed (the baseline engine\'s path) answers the same', () => {
    const packed = new Uint8Array(records.length * DVD1_RECORD_SIZE);
    records.forEach((r, i) => encodeDvd1Record(r, packed, i * DVD1_RECORD_SIZE));
    const { cryptograms, statuses, passed } = nodeCrypto.dvd1BatchPacked(packed, records.length);
    expect([...statuses]).toEqual(results.map((r) => r.status));
    results.forEach((r, i) => expect(cryptograms.subarray(i * 32, i * 32 + 32), `record ${i}`).toEqual(r.cryptogram));
    expect(passed).toBe(results.filter((r) => r.ok).length);
    const opened = nodeCrypto.dvd1OpenBatchPacked(packed, records.length);
    cases.forEach((c, i) => {
      const at = i * DVD1_OPENED_SIZE;
      if (opened.statuses[i] !== 0) return expect(opened.opened.subarray(at, at + DVD1_OPENED_SIZE).every((b) => b === 0)).toBe(true);
      expect(opened.opened.subarray(at, at + 16)).toEqual(new Uint8Array(c.pan));
      expect(opened.opened.subarray(at + 16, at + 48)).toEqual(new Uint8Array(c.basicKey));
    });
    expect(opened.passed).toBeGreaterThan(100);
  });

  it('exercise every status bit of a PIN record', () => {
    const seen = results.reduce((bits, r) => bits | r.status, 0);
    // CODE_MAC is the code record's (dvd1CodeBatch, test/core/code-record.test.ts), never a PIN record's
    for (const [name, bit] of Object.entries(S)) if (name !== 'CODE_MAC') expect(seen & bit, name).toBe(bit);
    expect(seen & S.CODE_MAC).toBe(0);
  });

  it('report the spec status for each corruption and zero cryptograms when not ok', () => {
    cases.forEach(({ corruption }, i) => {
      const result = results[i]!;
      if (corruption === undefined) return;
      expect(result.status, `record ${i} (${corruption})`).toBe(EXPECTED_STATUS[corruption]);
      expect(result.ok).toBe(false);
      expect(result.cryptogram).toEqual(new Uint8Array(32));
    });
  });

  it('accept valid records with the independently computed cryptogram', () => {
    let valid = 0;
    cases.forEach((c, i) => {
      if (c.corruption !== undefined) return;
      valid++;
      const result = results[i]!;
      expect(result, `record ${i}`).toMatchObject({ ok: true, status: 0 });
      expect(Buffer.from(result.cryptogram).toString('hex')).toBe(expectedCryptogram(c).toString('hex'));
    });
    expect(valid).toBe(134);
  });

  it('compute the PVV the generator stored', () => {
    const { record: r, pan, basicKey } = cases[0]!;
    const kPin = hkdf32(basicKey, new Uint8Array(0), Buffer.from(PIN_LABEL));
    expect(hmac(kPin, pan, r.pin).equals(r.storedPvv)).toBe(true);
  });
});
