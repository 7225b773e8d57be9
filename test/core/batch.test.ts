/**
 * dvd1Batch equals the same DVD-1 computation done one record at a time with the core's own single
 * functions (seal/open, luhn, constantTimeEqual, hkdf, hmacSha256), for batches of 1, 3, 64 and
 * 1000 records with corrupted records mixed in: a bad record fails alone with the right status bit,
 * its neighbours pass with the cryptogram node:crypto computes (test/support/dvd1-fixture.ts).
 *
 * Semantics (docs/core.md §DVD-1): both fields are decrypted with the raw keystream whatever their
 * tags say, and every check runs on that; the cryptogram is all zero unless status is 0.
 */
import { randomInt } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCore } from '../../core/index.ts';
import { DVD1_STATUS, type CryptoCore, type Dvd1Record, type Dvd1Result } from '../../core/types.ts';
import {
  CORRUPTIONS,
  EXPECTED_STATUS,
  PIN_INFO,
  TXN_INFO,
  amountBytes,
  corruptCard,
  issueCard,
  type Corruption,
  type Dvd1Card,
} from '../support/dvd1-fixture.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const ZERO32 = hex(new Uint8Array(32));

let core: CryptoCore;
beforeAll(async () => {
  core = await loadCore();
});

/** Raw ChaCha20 decryption of ct (no tag check), from the core's own seal: seal(0^n) = keystream ‖ tag. */
function rawDecrypt(key: Uint8Array, nonce: Uint8Array, ct: Uint8Array): Uint8Array {
  const keystream = core.seal(key, nonce, new Uint8Array(ct.length));
  return ct.map((b, i) => b ^ keystream[i]);
}

function authentic(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): boolean {
  try {
    core.open(key, nonce, sealed, aad);
    return true;
  } catch {
    return false;
  }
}

/** One record, computed with the core's single functions. */
function reference(r: Dvd1Record): Dvd1Result {
  const S = DVD1_STATUS;
  let status = 0;
  const tag1 = r.c1.subarray(16, 32);
  if (!authentic(r.kek, r.n1, r.c1, r.hdr)) status |= S.PAN_TAG;
  if (!authentic(r.kek, r.n2, r.c2, cat(r.hdr, tag1))) status |= S.KEY_TAG;
  const pan = rawDecrypt(r.kek, r.n1, r.c1.subarray(0, 16));
  const bk = rawDecrypt(r.kek, r.n2, r.c2.subarray(0, 32));
  if (!core.luhn(pan)) status |= S.LUHN;
  if (!core.constantTimeEqual(bk, r.storedBasicKey)) status |= S.BASIC_KEY;
  const kPin = core.hkdf(bk, new Uint8Array(0), ascii(PIN_INFO), 32);
  if (!core.constantTimeEqual(core.hmacSha256(kPin, cat(pan, r.pin)), r.storedPvv)) status |= S.PVV;
  let cryptogram: Uint8Array = new Uint8Array(32);
  if (status === 0) {
    const amt = amountBytes(r.amount);
    const kTxn = core.hkdf(bk, r.sid, cat(ascii(TXN_INFO), r.merchant, amt), 32);
    cryptogram = core.hmacSha256(kTxn, cat(r.sid, r.merchant, amt, pan));
  }
  return { ok: status === 0, status, cryptogram };
}

interface Slot {
  card: Dvd1Card;
  kind: Corruption | null; // null: left valid
  record: Dvd1Record;
}

function slot(kind: Corruption | null): Slot {
  const card = issueCard();
  return { card, kind, record: kind === null ? card.record : corruptCard(card, kind) };
}

const describeSlot = (s: Slot, i: number): string => `record ${i} (${s.kind ?? 'valid'})`;

/** Runs the batch and checks every record against the reference and against its expected outcome. */
function checkBatch(slots: Slot[]): Dvd1Result[] {
  const results = core.dvd1Batch(slots.map((s) => s.record));
  expect(results).toHaveLength(slots.length);
  slots.forEach((s, i) => {
    const id = describeSlot(s, i);
    const got = results[i];
    const want = reference(s.record);
    expect.soft({ ok: got.ok, status: got.status, cryptogram: hex(got.cryptogram) }, `${id}: vs one-at-a-time`).toEqual({
      ok: want.ok,
      status: want.status,
      cryptogram: hex(want.cryptogram),
    });
    expect.soft(got.cryptogram.length, id).toBe(32);
    if (s.kind === null) {
      expect.soft(got.status, `${id}: status`).toBe(0);
      expect.soft(got.ok, `${id}: ok`).toBe(true);
      expect.soft(hex(got.cryptogram), `${id}: cryptogram vs node:crypto`).toBe(hex(s.card.expectedCryptogram));
    } else {
      const { bits, exact } = EXPECTED_STATUS[s.kind];
      if (exact) expect.soft(got.status, `${id}: status`).toBe(bits);
      else expect.soft(got.status & bits, `${id}: status ${got.status} has bits ${bits}`).toBe(bits);
      expect.soft(got.ok, `${id}: ok`).toBe(false);
      expect.soft(hex(got.cryptogram), `${id}: cryptogram zero`).toBe(ZERO32);
    }
  });
  return results;
}

describe('dvd1Batch vs one record at a time', () => {
  it('a batch of 1: a valid record, then each kind of bad record alone', () => {
    checkBatch([slot(null)]);
    for (const kind of CORRUPTIONS) checkBatch([slot(kind)]);
  });

  it.each(CORRUPTIONS)('a batch of 3: valid, %s, valid', (kind) => {
    checkBatch([slot(null), slot(kind), slot(null)]);
  });

  it('a batch of 64: every corruption kind at several positions, the rest valid', () => {
    const kinds: Array<Corruption | null> = Array.from({ length: 64 }, () => null);
    CORRUPTIONS.forEach((k, j) => {
      kinds[j * 7] = k; // 0, 7, ..., 49
      kinds[63 - j] = k; // the last eight, so the tail of a SIMD lane group is covered too
    });
    checkBatch(kinds.map(slot));
  });

  it('a batch of 1000: random records, about one in six corrupted', () => {
    const slots = Array.from({ length: 1000 }, () =>
      slot(randomInt(6) === 0 ? CORRUPTIONS[randomInt(CORRUPTIONS.length)] : null),
    );
    const results = checkBatch(slots);
    const bad = slots.filter((s) => s.kind !== null).length;
    expect(results.filter((r) => !r.ok)).toHaveLength(bad);
  });

  it('amount encodes as u64 big-endian: 0, 2^32, and 2^64 - 1', () => {
    checkBatch([0n, 2n ** 32n, 2n ** 64n - 1n].map((amount) => {
      const card = issueCard({ amount });
      return { card, kind: null, record: card.record };
    }));
  });

  it('the same batch twice gives the same results (no state carried between batches)', () => {
    const slots = [slot(null), slot('pin'), slot(null), slot('panTag'), slot(null)];
    const first = core.dvd1Batch(slots.map((s) => s.record)).map((r) => [r.status, hex(r.cryptogram)]);
    const second = core.dvd1Batch(slots.map((s) => s.record)).map((r) => [r.status, hex(r.cryptogram)]);
    expect(second).toEqual(first);
  });

  it('records are not modified by the batch', () => {
    const slots = [slot(null), slot('keyTag'), slot('basicKey')];
    const snapshot = (r: Dvd1Record): string =>
      JSON.stringify(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : hex(v)]));
    const before = slots.map((s) => snapshot(s.record));
    core.dvd1Batch(slots.map((s) => s.record));
    expect(slots.map((s) => snapshot(s.record))).toEqual(before);
  });
});
