/**
 * Card payload v1 end to end on the embedded store: issue → text → QR (PNG/SVG) → text → S22 legal, and
 * every way a payload can be wrong (BRIEF §6: tampered, truncated, spliced, replayed, stale, wrong key)
 * gives an illegal verdict with one of the typed reasons, in input order, without poisoning its batch.
 * Also the issuer's card operations around legality: re-issue, rotation/retirement, block/unblock, PIN change,
 * and bad issue inputs (typed error, nothing written).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCore } from '../../core/index.ts';
import { isScanpayError, type ErrorCode } from '../../core/errors.ts';
import type { CryptoCore } from '../../core/types.ts';
import { unwrapBasicKey, wrapBasicKey } from '../../issuer/card-secrets.ts';
import { Issuer, type IssuedCard } from '../../issuer/issuer.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import type { IllegalReason, Verdict } from '../../issuer/verifier.ts';
import { drawPan, luhnCheckDigit } from '../../issuer/pan.ts';
import {
  PAYLOAD_SIZE, PAYLOAD_TEXT_LENGTH, PAYLOAD_TEXT_MAX, parsePayload, payloadFromText, payloadToText, sealPayload,
} from '../../issuer/payload.ts';
import { decodeQrPng, payloadQrPng, payloadQrSvg, qrVersionOf } from '../../issuer/qr.ts';
import { newSessionId } from '../../issuer/session-id.ts';
import { MemoryStore } from '../../issuer/store/memory-store.ts';

/** Every typed illegal reason (a Record, so the compiler says when IllegalReason gains a member). */
const REASONS: Record<IllegalReason, true> = {
  PAYLOAD_TOO_LARGE: true, PAYLOAD_MALFORMED: true, KEY_UNKNOWN: true, KEY_RETIRED: true, PAYLOAD_TAG_INVALID: true,
  PAN_INVALID: true, CARD_UNKNOWN: true, BASIC_KEY_MISMATCH: true, GENERATION_STALE: true, CARD_BLOCKED: true, CARD_LOCKED: true,
};
const BASE45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

let core: CryptoCore;
beforeAll(async () => {
  core = await loadCore();
});

interface Fixture {
  keyRing: IssuerKeyRing;
  store: MemoryStore;
  issuer: Issuer;
  issue(pin?: string): Promise<IssuedCard>;
}

function fixture(keyRing = IssuerKeyRing.generate(), store = new MemoryStore()): Fixture {
  const issuer = new Issuer({ core, store, keyRing });
  return { keyRing, store, issuer, issue: (pin = '1234') => issuer.issueCard({ pin, limit: 5000, currency: 'EUR' }) };
}

/** Three wrong PINs through the store's own steps, as the gateway makes them: the card ends locked. */
async function lockByPin(f: Fixture, pan: string): Promise<void> {
  const token = f.keyRing.cardToken(pan);
  const card = (await f.store.getCard(token))!;
  for (let i = 0; i < 3; i++) {
    const now = Date.now();
    const session = {
      id: newSessionId(token), deviceId: 'scanner-1', cardToken: token, last4: card.last4, payload: new Uint8Array(112), amount: 1, currency: 'EUR',
      merchant: 'm', captureMethod: 'automatic' as const, holdWindowMs: 86_400_000, createdAt: now, expiresAt: now + 60_000,
    };
    await f.store.openSession(session, { basicKeyCheck: card.basicKeyCheck, generation: card.generation, keyId: card.keyId });
    await f.store.beginPinAttempt(session.id, 'scanner-1', randomBytes(16).toString('hex'), now, { lockAt: 3, paceMs: 0 });
    await f.store.settleFailedPin(session.id, 'wrong', 3, now);
  }
}

/** The reason of an illegal verdict, or 'LEGAL'; checks the reason is typed. */
function reasonOf(v: Verdict): IllegalReason | 'LEGAL' {
  if (v.legal) return 'LEGAL';
  expect(Object.keys(REASONS), `untyped reason ${String(v.reason)}`).toContain(v.reason);
  return v.reason;
}

async function judgeOne(f: Fixture, scanned: unknown): Promise<IllegalReason | 'LEGAL'> {
  const verdicts = await f.issuer.judgePayloads([scanned as string]);
  expect(verdicts).toHaveLength(1);
  return reasonOf(verdicts[0]);
}

/** The basic key inside an authentic payload, opened with the core directly. */
function basicKeyOf(keyRing: IssuerKeyRing, payload: Uint8Array): Uint8Array {
  const parsed = parsePayload(payload);
  const [opened] = core.dvd1OpenBatch([{ kek: keyRing.keyForOpening(parsed.keyId), ...parsed.fields }]);
  expect(opened.ok).toBe(true);
  return opened.basicKey!;
}

/** PVV = HMAC(HKDF(basicKey, "", "scanpay/v1/pin"), PAN ‖ PIN), computed here with the core's primitives. */
function pvvFor(basicKey: Uint8Array, pan: string, pin: string): Uint8Array {
  const pinKey = core.hkdf(basicKey, new Uint8Array(0), new TextEncoder().encode('scanpay/v1/pin'), 32);
  return core.hmacSha256(pinKey, new TextEncoder().encode(pan + pin));
}

function splice(into: Uint8Array, from: Uint8Array, start: number, end: number): Uint8Array {
  const out = into.slice();
  out.set(from.subarray(start, end), start);
  return out;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('payload text and QR round trip', () => {
  it('issue → text → PNG → text is legal; SVG renders; QR version 7', async () => {
    const f = fixture();
    const card = await f.issue();
    expect(card.payload).toHaveLength(PAYLOAD_SIZE);
    expect(card.payloadText).toHaveLength(PAYLOAD_TEXT_LENGTH);
    expect(PAYLOAD_TEXT_LENGTH).toBe(168);
    expect(card.payloadText).toMatch(/^[0-9A-Z $%*+\-./:]{168}$/);
    expect(payloadToText(card.payload)).toBe(card.payloadText);
    expect(hex(payloadFromText(card.payloadText))).toBe(hex(card.payload));
    expect(card.view.maskedPan.endsWith(card.pan.slice(-4))).toBe(true);
    expect(card.view.maskedPan).not.toContain(card.pan.slice(0, 12));

    const png = await payloadQrPng(card.payloadText);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const scanned = decodeQrPng(png);
    expect(scanned).toBe(card.payloadText);

    const [fromText, fromBytes] = await f.issuer.judgePayloads([scanned, card.payload]);
    expect(fromText.legal).toBe(true);
    expect(fromBytes.legal).toBe(true);
    if (fromText.legal) {
      expect(fromText.card.token).toBe(f.keyRing.cardToken(card.pan));
      expect(fromText.payload.keyId).toBe(1);
      expect(fromText.payload.generation).toBe(1);
    }

    const svg = await payloadQrSvg(card.payloadText);
    expect(svg).toContain('<svg');
    expect(qrVersionOf(card.payloadText)).toBe(7);
    expect(f.issuer.panOfPayload(card.payloadText)).toBe(card.pan);
  });

  it('payloadQrPng, payloadQrSvg and qrVersionOf take payload text only: anything else is BAD_ARGUMENT with the way out', async () => {
    const card = await fixture().issue();
    const badArgument = (message: RegExp) => expect.objectContaining({ code: 'BAD_ARGUMENT', message: expect.stringMatching(message) });
    for (const [name, make] of [['payloadQrPng', payloadQrPng], ['payloadQrSvg', payloadQrSvg]] as const) {
      await expect(make(card.payload as unknown as string)).rejects.toEqual(
        badArgument(new RegExp(`^an argument has the wrong type or value: ${name} takes the payload text, a string; got a Uint8Array \\(bytes\\) \\(for payload bytes, pass payloadToText\\(bytes\\)\\)$`)));
      await expect(make(Buffer.from(card.payloadText) as unknown as string)).rejects.toEqual(badArgument(/got a Buffer \(bytes\)/));
      for (const notText of [undefined, null, 42, { text: card.payloadText }]) {
        await expect(make(notText as unknown as string)).rejects.toEqual(badArgument(new RegExp(`${name} takes the payload text, a string`)));
      }
      for (const badText of ['', card.payloadText.toLowerCase(), 'A'.repeat(257), `${card.payloadText}\n`]) {
        await expect(make(badText)).rejects.toEqual(badArgument(/takes payload text: 1 to 256 base45 characters/));
      }
    }
    expect(() => qrVersionOf(card.payload as unknown as string)).toThrowError(badArgument(/qrVersionOf takes the payload text/));
    expect(qrVersionOf('A'.repeat(256))).toBeGreaterThan(7); // the longest text taken still fits a QR code
  });

  it('decodeQrPng takes the image\'s bytes: a path or anything else is BAD_ARGUMENT', () => {
    expect(() => decodeQrPng('card.png' as unknown as Uint8Array)).toThrowError(expect.objectContaining({
      code: 'BAD_ARGUMENT', message: expect.stringContaining('decodeQrPng takes the PNG image\'s bytes, a Uint8Array; got a string (for a file, pass readFileSync(path))'),
    }));
    for (const notBytes of [undefined, null, 7, new ArrayBuffer(8), [0x89, 0x50]]) {
      expect(() => decodeQrPng(notBytes as unknown as Uint8Array)).toThrowError(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    }
  });

  it('decodeQrPng refuses non-PNG bytes and PNGs without a QR code (PAYLOAD_MALFORMED)', () => {
    const blank = new PNG({ width: 64, height: 64 });
    blank.data.fill(255);
    for (const image of [new Uint8Array(0), randomBytes(1000), Buffer.from('not a png'), PNG.sync.write(blank)]) {
      expect(() => decodeQrPng(image)).toThrowError(expect.objectContaining({ code: 'PAYLOAD_MALFORMED' }));
    }
  });
});

describe('tampered payloads are illegal', () => {
  it('every single-byte change (all 112 positions; every xor in the header, 0x01, 0x80 and a random one elsewhere) is illegal', async () => {
    const f = fixture();
    const card = await f.issue();
    const mutated: Uint8Array[] = [];
    const where: { pos: number; xor: number }[] = [];
    const everyXor = Array.from({ length: 255 }, (_, i) => i + 1);
    for (let pos = 0; pos < PAYLOAD_SIZE; pos++) {
      for (const xor of pos < 8 ? everyXor : [0x01, 0x80, randomInt(1, 256)]) {
        const b = card.payload.slice();
        b[pos] ^= xor;
        mutated.push(b);
        where.push({ pos, xor });
      }
    }
    const verdicts = await f.issuer.judgePayloads([...mutated, card.payload]);
    expect(verdicts).toHaveLength(mutated.length + 1);
    expect(verdicts.at(-1)!.legal).toBe(true); // the intact payload after thousands of bad ones is still judged on its own

    const byPosition = new Map<number, Set<string>>();
    const histogram: Record<string, number> = {};
    verdicts.slice(0, -1).forEach((v, i) => {
      const reason = reasonOf(v);
      expect(reason, `byte ${where[i].pos} xor ${where[i].xor}`).not.toBe('LEGAL');
      histogram[reason] = (histogram[reason] ?? 0) + 1;
      const set = byPosition.get(where[i].pos) ?? new Set();
      set.add(reason);
      byPosition.set(where[i].pos, set);
    });
    const at = (pos: number) => [...byPosition.get(pos)!].sort();
    expect(at(0)).toEqual(['PAYLOAD_MALFORMED']); // version
    expect(at(7)).toEqual(['PAYLOAD_MALFORMED']); // reserved byte
    for (const pos of [1, 2]) expect(at(pos)).toEqual(['KEY_UNKNOWN']); // the ring holds key 1 only
    for (let pos = 3; pos < PAYLOAD_SIZE; pos++) {
      if (pos !== 7) expect(at(pos), `byte ${pos}`).toEqual(['PAYLOAD_TAG_INVALID']); // generation, nonces, ciphertexts, tags
    }
    console.log(`single-byte changes: ${mutated.length} payloads, reasons ${JSON.stringify(histogram)}`);
  });

  it('a key-id edit that lands on another known key fails authentication, not KEY_UNKNOWN', async () => {
    const f = fixture();
    const card = await f.issue();
    f.keyRing.rotate(); // key 2 exists now
    const b = card.payload.slice();
    b[2] = 2;
    expect(await judgeOne(f, b)).toBe('PAYLOAD_TAG_INVALID');
    expect(await judgeOne(f, card.payload)).toBe('LEGAL');
  });

  it('every single-character change of the base45 text is illegal', async () => {
    const f = fixture();
    const card = await f.issue();
    const texts: string[] = [];
    for (let i = 0; i < card.payloadText.length; i++) {
      for (const c of BASE45) {
        if (c !== card.payloadText[i]) texts.push(card.payloadText.slice(0, i) + c + card.payloadText.slice(i + 1));
      }
      for (const c of ['a', 'é', '\0', '\n', '?']) texts.push(card.payloadText.slice(0, i) + c + card.payloadText.slice(i + 1));
    }
    const verdicts = await f.issuer.judgePayloads([card.payloadText, ...texts, card.payloadText]);
    expect(verdicts[0].legal).toBe(true);
    expect(verdicts.at(-1)!.legal).toBe(true);
    const histogram: Record<string, number> = {};
    verdicts.slice(1, -1).forEach((v, i) => {
      const reason = reasonOf(v);
      expect(reason, JSON.stringify(texts[i])).not.toBe('LEGAL');
      histogram[reason] = (histogram[reason] ?? 0) + 1;
    });
    expect(Object.keys(histogram).sort()).toEqual(
      expect.arrayContaining(['PAYLOAD_MALFORMED', 'PAYLOAD_TAG_INVALID']),
    );
    console.log(`single-character changes: ${texts.length} texts, reasons ${JSON.stringify(histogram)}`);
  });

  it('truncated and extended payloads are illegal; oversized text is refused before decoding', async () => {
    const f = fixture();
    const card = await f.issue();
    const cases: { input: unknown; want: IllegalReason }[] = [];
    for (let n = 0; n < PAYLOAD_SIZE; n++) {
      cases.push({ input: card.payload.slice(0, n), want: 'PAYLOAD_MALFORMED' });
      cases.push({ input: card.payload.subarray(PAYLOAD_SIZE - n), want: 'PAYLOAD_MALFORMED' }); // cut from the front
    }
    for (let n = 0; n < card.payloadText.length; n++) cases.push({ input: card.payloadText.slice(0, n), want: 'PAYLOAD_MALFORMED' });
    const extended = new Uint8Array(PAYLOAD_SIZE + 1);
    extended.set(card.payload);
    cases.push(
      { input: extended, want: 'PAYLOAD_MALFORMED' },
      { input: new Uint8Array(10_240), want: 'PAYLOAD_MALFORMED' },
      { input: `${card.payloadText}A`, want: 'PAYLOAD_MALFORMED' },
      { input: `${card.payloadText}00`, want: 'PAYLOAD_MALFORMED' },
      { input: payloadToText(extended), want: 'PAYLOAD_MALFORMED' }, // 171 canonical base45 chars
      { input: ` ${card.payloadText}`, want: 'PAYLOAD_MALFORMED' },
      { input: `${card.payloadText}\n`, want: 'PAYLOAD_MALFORMED' },
      { input: card.payloadText.padEnd(PAYLOAD_TEXT_MAX, 'A'), want: 'PAYLOAD_MALFORMED' },
      { input: card.payloadText.padEnd(PAYLOAD_TEXT_MAX + 1, 'A'), want: 'PAYLOAD_TOO_LARGE' },
      { input: 'A'.repeat(10_240), want: 'PAYLOAD_TOO_LARGE' },
      { input: '\u{1F4B3}'.repeat(5_120), want: 'PAYLOAD_TOO_LARGE' },
    );
    const started = performance.now();
    const verdicts = await f.issuer.judgePayloads([...cases.map((c) => c.input as string), card.payloadText]);
    verdicts.slice(0, -1).forEach((v, i) => {
      const c = cases[i];
      const label = typeof c.input === 'string' ? `text of ${c.input.length}` : `${(c.input as Uint8Array).length} bytes`;
      expect(reasonOf(v), label).toBe(c.want);
    });
    expect(verdicts.at(-1)!.legal).toBe(true);

    const huge = 'A'.repeat(10_000_000); // refused on length alone: no regex, no decode
    const t0 = performance.now();
    expect(await judgeOne(f, huge)).toBe('PAYLOAD_TOO_LARGE');
    expect(performance.now() - t0).toBeLessThan(100);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('non-string, non-byte and garbage inputs are illegal (PAYLOAD_MALFORMED) and do not poison the batch', async () => {
    const f = fixture();
    const card = await f.issue();
    const asInt8 = new Int8Array(card.payload.buffer.slice(0));
    const u16 = new Uint16Array(PAYLOAD_SIZE);
    u16[0] = 1;
    const garbage: unknown[] = [
      null, undefined, 0, 112, NaN, true, {}, [], [...card.payload], { length: 112 }, Symbol.for('x') as unknown,
      card.payload.buffer.slice(0), asInt8, new Uint8ClampedArray(card.payload), u16, new DataView(card.payload.buffer.slice(0)),
      '', ' ', 'garbage', card.payloadText.toLowerCase(), ':'.repeat(PAYLOAD_TEXT_LENGTH), 'Z'.repeat(PAYLOAD_TEXT_LENGTH),
      '0'.repeat(PAYLOAD_TEXT_LENGTH), 'é'.repeat(PAYLOAD_TEXT_LENGTH), '\u{1F4B3}'.repeat(PAYLOAD_TEXT_LENGTH / 2),
      new Uint8Array(PAYLOAD_SIZE), new Uint8Array(PAYLOAD_SIZE).fill(0xff),
    ];
    const verdicts = await f.issuer.judgePayloads([card.payloadText, ...(garbage as string[]), card.payload]);
    expect(verdicts).toHaveLength(garbage.length + 2);
    expect(verdicts[0].legal).toBe(true);
    expect(verdicts.at(-1)!.legal).toBe(true);
    verdicts.slice(1, -1).forEach((v, i) => {
      expect(reasonOf(v), `garbage[${i}]`).toBe('PAYLOAD_MALFORMED');
    });
    expect(() => f.issuer.panOfPayload(null as unknown as string)).toThrowError(expect.objectContaining({ code: 'PAYLOAD_MALFORMED' }));
  });

  it('fields spliced from another card fail authentication', async () => {
    const f = fixture();
    const a = await f.issue();
    const b = await f.issue();
    const spliced = {
      c2: splice(a.payload, b.payload, 64, 112), // encrypted basic key (c2 ‖ tag2)
      n2c2: splice(a.payload, b.payload, 52, 112), // nonce and encrypted basic key
      c1: splice(a.payload, b.payload, 20, 52), // encrypted PAN (c1 ‖ tag1)
      n1c1: splice(a.payload, b.payload, 8, 52), // nonce and encrypted PAN
      tag1: splice(a.payload, b.payload, 36, 52),
      tag2: splice(a.payload, b.payload, 96, 112),
    };
    const reissued = await f.issuer.reissueCard(b.pan); // a generation-2 header to splice
    const header = splice(a.payload, reissued.payload, 0, 8);
    const verdicts = await f.issuer.judgePayloads([...Object.values(spliced), header, a.payload]);
    for (const v of verdicts.slice(0, -1)) expect(reasonOf(v)).toBe('PAYLOAD_TAG_INVALID');
    expect(verdicts.at(-1)!.legal).toBe(true);
    expect(() => f.issuer.panOfPayload(spliced.c2)).toThrowError(expect.objectContaining({ code: 'PAYLOAD_TAG_INVALID' }));
  });
});

describe('generations, keys and card state', () => {
  it('re-issue: older generations are GENERATION_STALE, the new one is legal', async () => {
    const f = fixture();
    const card = await f.issue();
    const second = await f.issuer.reissueCard(card.pan);
    expect(second.pan).toBe(card.pan);
    expect(second.view.generation).toBe(2);
    expect(parsePayload(second.payload).generation).toBe(2);
    const third = await f.issuer.reissueCard(card.pan);
    expect(third.view.generation).toBe(3);
    const verdicts = await f.issuer.judgePayloads([card.payloadText, second.payloadText, third.payloadText, card.payload]);
    expect(verdicts.map(reasonOf)).toEqual(['GENERATION_STALE', 'GENERATION_STALE', 'LEGAL', 'GENERATION_STALE']);
    // the re-issued payload carries the same basic key: the holder's PIN still verifies
    const bk = basicKeyOf(f.keyRing, third.payload);
    expect(hex(bk)).toBe(hex(basicKeyOf(f.keyRing, card.payload)));
    // an operator can still name the card by an old payload
    expect(f.issuer.panOfPayload(card.payloadText)).toBe(card.pan);
  });

  it('a payload under another key ring is illegal (KEY_UNKNOWN or PAYLOAD_TAG_INVALID)', async () => {
    const f = fixture();
    const other = fixture(); // same key id 1, different key
    const otherRotated = fixture();
    otherRotated.keyRing.rotate();
    otherRotated.keyRing.rotate(); // key id 3: unknown to f
    const a = await other.issue();
    const b = await otherRotated.issue();
    expect(parsePayload(b.payload).keyId).toBe(3);
    const [va, vb] = await f.issuer.judgePayloads([a.payloadText, b.payloadText]);
    expect(reasonOf(va)).toBe('PAYLOAD_TAG_INVALID');
    expect(reasonOf(vb)).toBe('KEY_UNKNOWN');
    // and the same store but a different ring: the card exists, the payload still does not open
    const sameStore = fixture(IssuerKeyRing.generate(), f.store);
    const c = await sameStore.issue();
    expect(await judgeOne(f, c.payload)).toBe('PAYLOAD_TAG_INVALID');
  });

  it('rotation keeps old payloads legal (decrypt-only key); retiring the key makes them KEY_RETIRED', async () => {
    const f = fixture();
    const old = await f.issue();
    const oldToReissue = await f.issue();
    expect(old.view.keyId).toBe(1);
    const newId = f.keyRing.rotate();
    expect(newId).toBe(2);
    expect(f.keyRing.list().map((k) => [k.id, k.state])).toEqual([[1, 'decrypt-only'], [2, 'active']]);
    expect(await judgeOne(f, old.payloadText)).toBe('LEGAL');

    const fresh = await f.issue();
    expect(fresh.view.keyId).toBe(2);
    expect(parsePayload(fresh.payload).keyId).toBe(2);
    expect(await judgeOne(f, fresh.payloadText)).toBe('LEGAL');

    const moved = await f.issuer.reissueCard(oldToReissue.pan);
    expect(moved.view.keyId).toBe(2);
    expect(parsePayload(moved.payload).keyId).toBe(2);
    expect(moved.view.generation).toBe(2);

    f.keyRing.retire(1);
    const verdicts = await f.issuer.judgePayloads([old.payloadText, oldToReissue.payloadText, fresh.payloadText, moved.payloadText]);
    expect(verdicts.map(reasonOf)).toEqual(['KEY_RETIRED', 'KEY_RETIRED', 'LEGAL', 'LEGAL']);
    // and a re-issue moves a card off the retired key
    const rescued = await f.issuer.reissueCard(old.pan);
    expect(await judgeOne(f, rescued.payload)).toBe('LEGAL');
  });

  it('blocked → CARD_BLOCKED, unblock → legal; locked → CARD_LOCKED, unblock → legal', async () => {
    const f = fixture();
    const card = await f.issue();
    const blocked = await f.issuer.blockCard(card.pan);
    expect(blocked.status).toBe('blocked');
    expect(await judgeOne(f, card.payloadText)).toBe('CARD_BLOCKED');
    expect(f.issuer.panOfPayload(card.payloadText)).toBe(card.pan); // the operator can still name it
    expect((await f.issuer.unblockCard(card.pan)).status).toBe('active');
    expect(await judgeOne(f, card.payloadText)).toBe('LEGAL');

    await lockByPin(f, card.pan);
    expect((await f.issuer.viewCard(card.pan)).status).toBe('locked');
    expect(await judgeOne(f, card.payloadText)).toBe('CARD_LOCKED');
    const unlocked = await f.issuer.unblockCard(card.pan);
    expect(unlocked).toMatchObject({ status: 'active', pinFailures: 0 });
    expect(await judgeOne(f, card.payloadText)).toBe('LEGAL');
  });

  it("a store row holding a different basic key → BASIC_KEY_MISMATCH", async () => {
    const f = fixture();
    const a = await f.issue();
    const b = await f.issue();
    const c = await f.issue();
    const rowB = (await f.store.getCard(f.keyRing.cardToken(b.pan)))!;
    // S22 compares the row's basic-key check: another card's (bound to another token)…
    await f.store.updateCard(f.keyRing.cardToken(a.pan), (row) => ({ ...row, basicKeyCheck: rowB.basicKeyCheck }));
    // …or a correct check of a different basic key
    await f.store.updateCard(f.keyRing.cardToken(c.pan), (row) => ({ ...row, basicKeyCheck: f.keyRing.basicKeyCheck(row.token, randomBytes(32)) }));
    const verdicts = await f.issuer.judgePayloads([a.payloadText, b.payloadText, c.payloadText]);
    expect(verdicts.map(reasonOf)).toEqual(['BASIC_KEY_MISMATCH', 'LEGAL', 'BASIC_KEY_MISMATCH']);
  });

  it('an authentic payload for a card the store does not hold → CARD_UNKNOWN; a non-Luhn PAN → PAN_INVALID', async () => {
    const f = fixture();
    const { id, key } = f.keyRing.active();
    const pan = drawPan('400000');
    const unknown = sealPayload(core, key, id, 1, pan, randomBytes(32));
    const badCheck = String((Number(pan.at(-1)) + 1) % 10);
    const notLuhn = sealPayload(core, key, id, 1, pan.slice(0, 15) + badCheck, randomBytes(32));
    const letters = sealPayload(core, key, id, 1, '400000ABCDEFGHI' + String(luhnCheckDigit('400000000000000')), randomBytes(32));
    // a card issued into another store under the same ring
    const elsewhere = await fixture(f.keyRing).issue();
    const verdicts = await f.issuer.judgePayloads([unknown, payloadToText(unknown), notLuhn, letters, elsewhere.payloadText]);
    expect(verdicts.map(reasonOf)).toEqual(['CARD_UNKNOWN', 'CARD_UNKNOWN', 'PAN_INVALID', 'PAN_INVALID', 'CARD_UNKNOWN']);
  });

  it('a mixed batch gets its verdicts in input order', async () => {
    const f = fixture();
    const cards = await Promise.all(Array.from({ length: 6 }, () => f.issue()));
    const [live, live2, toBlock, toReissue, toMismatch, toLock] = cards;
    await f.issuer.blockCard(toBlock.pan);
    const newer = await f.issuer.reissueCard(toReissue.pan);
    await f.store.updateCard(f.keyRing.cardToken(toMismatch.pan), (row) => ({ ...row, basicKeyCheck: f.keyRing.basicKeyCheck(row.token, randomBytes(32)) }));
    await lockByPin(f, toLock.pan);
    const tampered = live.payload.slice();
    tampered[100] ^= 0x40;
    const { id, key } = f.keyRing.active();
    const unknown = sealPayload(core, key, id, 1, drawPan('400000'), randomBytes(32));
    const foreign = await fixture().issue();

    const batch: { input: unknown; want: IllegalReason | 'LEGAL'; pan?: string }[] = [
      { input: live.payloadText, want: 'LEGAL', pan: live.pan },
      { input: tampered, want: 'PAYLOAD_TAG_INVALID' },
      { input: toReissue.payloadText, want: 'GENERATION_STALE' },
      { input: live2.payload, want: 'LEGAL', pan: live2.pan },
      { input: toBlock.payloadText, want: 'CARD_BLOCKED' },
      { input: 'A'.repeat(1000), want: 'PAYLOAD_TOO_LARGE' },
      { input: unknown, want: 'CARD_UNKNOWN' },
      { input: newer.payloadText, want: 'LEGAL', pan: toReissue.pan },
      { input: null, want: 'PAYLOAD_MALFORMED' },
      { input: toMismatch.payloadText, want: 'BASIC_KEY_MISMATCH' },
      { input: foreign.payloadText, want: 'PAYLOAD_TAG_INVALID' },
      { input: toLock.payload, want: 'CARD_LOCKED' },
      { input: live.payloadText, want: 'LEGAL', pan: live.pan }, // the same payload twice in one batch
      { input: live.payload.slice(0, 50), want: 'PAYLOAD_MALFORMED' },
    ];
    for (let round = 0; round < 3; round++) {
      const order = round === 0 ? batch : [...batch].sort(() => Math.random() - 0.5);
      const verdicts = await f.issuer.judgePayloads(order.map((b) => b.input as string));
      expect(verdicts.map(reasonOf)).toEqual(order.map((b) => b.want));
      verdicts.forEach((v, i) => {
        if (v.legal) expect(v.card.token).toBe(f.keyRing.cardToken(order[i].pan!));
      });
    }
    expect(await f.issuer.judgePayloads([])).toEqual([]);
  });
});

describe('PIN change', () => {
  it('replaces the PVV with the one for the new PIN and clears PIN failures', async () => {
    const f = fixture();
    const card = await f.issue('1234');
    const basicKey = basicKeyOf(f.keyRing, card.payload);
    const before = (await f.store.getCard(f.keyRing.cardToken(card.pan)))!;
    expect(hex(before.pvv)).toBe(hex(pvvFor(basicKey, card.pan, '1234')));
    await f.store.updateCard(f.keyRing.cardToken(card.pan), (c) => ({ ...c, pinFailures: 1 }));

    const view = await f.issuer.changePin(card.pan, '9876');
    expect(view.pinFailures).toBe(0);
    const after = (await f.store.getCard(f.keyRing.cardToken(card.pan)))!;
    expect(hex(after.pvv)).toBe(hex(pvvFor(basicKey, card.pan, '9876')));
    expect(hex(after.pvv)).not.toBe(hex(before.pvv));
    expect(hex(after.wrappedBasicKey)).toBe(hex(before.wrappedBasicKey)); // same basic key, same payload
    expect(after.generation).toBe(before.generation);
    expect(await judgeOne(f, card.payloadText)).toBe('LEGAL');

    // the whole DVD-1 check (decrypt, verify, PVV) agrees: new PIN passes, old PIN fails on PVV only
    const parsed = parsePayload(card.payload);
    const record = (pin: string) => ({
      kek: f.keyRing.keyForOpening(parsed.keyId), ...parsed.fields,
      storedBasicKey: unwrapBasicKey(core, f.keyRing.storageKey, f.keyRing.cardToken(card.pan), after.wrappedBasicKey), storedPvv: after.pvv,
      pin: new TextEncoder().encode(pin), sid: randomBytes(16), merchant: randomBytes(16), amount: 100n,
    });
    const [ok, wrong] = core.dvd1Batch([record('9876'), record('1234')]);
    expect(ok.status).toBe(0);
    expect(wrong.status).toBe(16); // DVD1_STATUS.PVV
    basicKey.fill(0);
  });

  it('refuses bad PIN formats with PIN_FORMAT and writes nothing', async () => {
    const f = fixture();
    const card = await f.issue('1234');
    const before = (await f.store.getCard(f.keyRing.cardToken(card.pan)))!;
    for (const pin of ['123', '12345', 'abcd', 1234, '', ' 123', '12 4', '1234\n', '１２３４', '٠١٢٣', '-123', '1e3', null, undefined, ['1234']]) {
      await expect(f.issuer.changePin(card.pan, pin as string), JSON.stringify(pin)).rejects.toMatchObject({ name: 'ScanpayError', code: 'PIN_FORMAT' });
    }
    expect(await f.store.getCard(f.keyRing.cardToken(card.pan))).toEqual(before);
    await expect(f.issuer.changePin(drawPan('400000'), '1111')).rejects.toMatchObject({ code: 'CARD_UNKNOWN' });
    await expect(f.issuer.changePin('4000', '1111')).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });
});

describe('bad issue inputs', () => {
  it('give typed errors and write no card', async () => {
    const currencies = Intl.supportedValuesOf('currency');
    for (const c of ['EURO', 'XXX', 'eur', 'EU', '']) expect(currencies).not.toContain(c); // so each must be refused
    const f = fixture();
    await f.issue();
    const ok = { pin: '1234', limit: 5000, currency: 'EUR' };
    const cases: { input: unknown; code: ErrorCode }[] = [
      { input: { ...ok, limit: -1 }, code: 'BAD_ARGUMENT' },
      { input: { ...ok, limit: 1.5 }, code: 'BAD_ARGUMENT' },
      { input: { ...ok, limit: NaN }, code: 'BAD_ARGUMENT' },
      { input: { ...ok, limit: Infinity }, code: 'BAD_ARGUMENT' },
      { input: { ...ok, limit: 2 ** 53 }, code: 'BAD_ARGUMENT' },
      { input: { ...ok, limit: '5000' }, code: 'BAD_ARGUMENT' },
      { input: { ...ok, limit: undefined }, code: 'BAD_ARGUMENT' },
      { input: { ...ok, balance: -5 }, code: 'BAD_ARGUMENT' },
      { input: { ...ok, balance: 0.01 }, code: 'BAD_ARGUMENT' },
      { input: { ...ok, currency: 'EURO' }, code: 'BAD_ARGUMENT' },
      { input: { ...ok, currency: 'XXX' }, code: 'BAD_ARGUMENT' },
      { input: { ...ok, currency: 'eur' }, code: 'BAD_ARGUMENT' },
      { input: { ...ok, currency: '' }, code: 'BAD_ARGUMENT' },
      { input: { ...ok, currency: 978 }, code: 'BAD_ARGUMENT' },
      { input: { ...ok, currency: undefined }, code: 'BAD_ARGUMENT' },
      { input: { limit: 5000, currency: 'EUR' }, code: 'PIN_FORMAT' },
      { input: { ...ok, pin: '12' }, code: 'PIN_FORMAT' },
      { input: { ...ok, pin: 1234 }, code: 'PIN_FORMAT' },
      { input: { ...ok, pin: '12a4' }, code: 'PIN_FORMAT' },
      { input: undefined, code: 'PIN_FORMAT' },
      { input: null, code: 'PIN_FORMAT' },
    ];
    for (const { input, code } of cases) {
      const before = await f.store.countCards();
      const error = await f.issuer.issueCard(input as never).then(() => null, (e: unknown) => e);
      expect(isScanpayError(error, code), `${JSON.stringify(input)} → ${String(error)}`).toBe(true);
      expect(await f.store.countCards()).toBe(before);
    }
    expect(await f.store.countCards()).toBe(1);
  });

  it('an issuer refuses a malformed BIN', () => {
    const store = new MemoryStore();
    const keyRing = IssuerKeyRing.generate();
    for (const bin of ['4000', '40000000A', '123456789', '']) {
      expect(() => new Issuer({ core, store, keyRing, bin })).toThrowError(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    }
  });
});
