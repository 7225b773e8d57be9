/**
 * BRIEF §6 against a running gateway, on both stores: every illegal payload is refused with a folded code
 * (S23) and counted by its precise reason; PINs cannot be brute-forced (lockout across sessions and
 * gateway restarts); sessions are single-use, expire and are bound to their scanner; duplicate and
 * concurrent PIN frames pay once; unauthenticated upgrades and page requests are refused; hostile frames
 * get typed errors and change nothing — while a bystander scanner keeps paying the whole time; and the
 * logs never hold a PAN or a PIN.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCore } from '../../core/index.ts';
import { Issuer, type IssueCardInput, type IssuedCard } from '../../issuer/issuer.ts';
import { payloadFromText, payloadToText, sealPayload } from '../../issuer/payload.ts';
import { MemoryStore } from '../../issuer/store/index.ts';
import type { AuthRequiredFrame, ErrorFrame, GatewayFrame, PaymentResultFrame } from '../../protocol/messages.ts';
import { deviceSecret, signScannerToken } from '../../protocol/scanner-token.ts';
import {
  MERCHANT, PIN, WRONG_PIN, memoryLogger, memoryTestStore, metricValue, redisTestStore, startGatewayFixture, uniqueDevice, upgradeOutcome,
  type GatewayFixture, type RawScanner, type TestStore,
} from '../support/gateway-fixture.ts';
import { describeRedis, redisForTests } from '../support/redis.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

const isError = (code: string) => (f: GatewayFrame) => f.type === 'error' && f.code === code;

/** The HTTP status an upgrade was refused with, or 'open' (the connection is then closed). */
/** A payload with one byte changed (after the base45 decoding). */
function tampered(payloadText: string, offset: number, xor = 0x01): string {
  const bytes = payloadFromText(payloadText);
  bytes[offset] ^= xor;
  return payloadToText(bytes);
}

/** A second scanner that pays small amounts in a loop for as long as it runs; any failure is kept. */
class Bystander {
  payments = 0;
  readonly failures: string[] = [];
  #running = true;
  #paused: Promise<void> | null = null;
  #idle: (() => void) | null = null;
  readonly #loop: Promise<void>;

  constructor(scanner: RawScanner, card: IssuedCard) {
    this.#loop = (async () => {
      while (this.#running) {
        if (this.#paused) {
          this.#idle?.();
          await this.#paused;
          continue;
        }
        try {
          const auth = await scanner.scan(card.payloadText, 10);
          if (auth.type !== 'auth-required') throw new Error(`scan: ${JSON.stringify(auth)}`);
          const result = await scanner.pin(auth.session, PIN);
          if (result.type !== 'payment-result' || result.outcome !== 'approved') throw new Error(`pin: ${JSON.stringify(result)}`);
          this.payments++;
        } catch (e) {
          this.failures.push((e as Error).message);
        }
        await sleep(120); // ~2 frames per 130 ms: well inside the per-scanner rate limit
      }
    })();
  }

  /** Runs `work` while the bystander makes no payment (so payment counters belong to `work` alone). */
  async aside<T>(work: () => Promise<T>): Promise<T> {
    let resume!: () => void;
    this.#paused = new Promise((r) => (resume = r));
    await new Promise<void>((r) => (this.#idle = r));
    try {
      return await work();
    } finally {
      this.#paused = null;
      this.#idle = null;
      resume();
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }
}

function securitySuite(openStore: () => Promise<TestStore>): void {
  let ts: TestStore;
  let fx: GatewayFixture;
  let bystander: Bystander;
  let bystanderCard: IssuedCard;
  const log = memoryLogger('debug');
  const issued: IssuedCard[] = []; // every card whose PAN must never reach the log

  const issue = async (input: Partial<IssueCardInput> = {}): Promise<IssuedCard> => {
    const card = await fx.issue(input);
    issued.push(card);
    return card;
  };
  const balance = async (card: IssuedCard) => (await fx.issuer.viewCard(card.pan)).balance;

  beforeAll(async () => {
    ts = await openStore();
    fx = await startGatewayFixture({ store: ts.store, threads: 2, logger: log.logger });
    bystanderCard = await issue({ balance: 10_000_000 });
    bystander = new Bystander(await fx.scanner(uniqueDevice('bystander')), bystanderCard);
  });
  afterAll(async () => {
    await bystander?.stop();
    await fx?.close();
    await ts?.dispose();
  });

  describe('S23: illegal payloads', () => {
    it('each reason reaches the scanner folded, and /metrics counts it by the folded code only', async () => {
      const s = await fx.scanner();
      const before = await fx.metrics();
      const good = await issue();

      const unknown = await new Issuer({ core: await loadCore(), store: new MemoryStore(), keyRing: fx.keyRing })
        .issueCard({ pin: PIN, limit: 1_000, currency: 'EUR' }); // authentic, but not a card of this issuer's store
      issued.push(unknown);
      const forged = payloadToText(sealPayload(fx.core, fx.keyRing.active().key, fx.keyRing.active().id, 1, good.pan, randomBytes(32)));
      const other = await issue();
      const spliced = (() => {
        const a = payloadFromText(good.payloadText);
        const b = payloadFromText(other.payloadText);
        a.set(b.subarray(52), 52); // n2 ‖ c2 (the basic key) from another card
        return payloadToText(a);
      })();
      const stale = await issue();
      const reissued = await fx.issuer.reissueCard(stale.pan);
      const blocked = await issue();
      await fx.issuer.blockCard(blocked.pan);
      const locked = await issue();
      await fx.store.updateCard(fx.keyRing.cardToken(locked.pan), (c) => ({ ...c, status: 'locked' }));
      // a key of its own, retired: only this card's payload is sealed under it
      fx.keyRing.rotate();
      const retiredCard = await issue();
      const retiredId = fx.keyRing.active().id;
      fx.keyRing.rotate();
      fx.keyRing.retire(retiredId);
      await fx.saveKeys(); // the gateway's workers reload the ring: no restart

      const cases: [what: string, payload: string, told: string, reason: string][] = [
        ['garbage text', 'hello, I am not a card', 'PAYLOAD_UNREADABLE', 'PAYLOAD_MALFORMED'],
        ['base45 of the right length, not a payload', 'A'.repeat(168), 'PAYLOAD_UNREADABLE', 'PAYLOAD_MALFORMED'],
        ['a flipped ciphertext bit', tampered(good.payloadText, 30), 'CARD_INVALID', 'PAYLOAD_TAG_INVALID'],
        ['an edited header (generation)', tampered(good.payloadText, 6), 'CARD_INVALID', 'PAYLOAD_TAG_INVALID'],
        ['a spliced basic key', spliced, 'CARD_INVALID', 'PAYLOAD_TAG_INVALID'],
        ['an unknown key id', tampered(good.payloadText, 1, 0x7f), 'CARD_INVALID', 'KEY_UNKNOWN'],
        ['a card unknown to this issuer', unknown.payloadText, 'CARD_INVALID', 'CARD_UNKNOWN'],
        ['a forged basic key under the issuer key', forged, 'CARD_INVALID', 'BASIC_KEY_MISMATCH'],
        ['a stale generation (re-issued)', stale.payloadText, 'CARD_INVALID', 'GENERATION_STALE'],
        ['a retired issuer key', retiredCard.payloadText, 'CARD_INVALID', 'KEY_RETIRED'],
        ['a blocked card', blocked.payloadText, 'CARD_BLOCKED', 'CARD_BLOCKED'],
        ['a locked card', locked.payloadText, 'CARD_LOCKED', 'CARD_LOCKED'],
      ];
      const messages = new Map<string, Set<string>>();
      for (const [what, payload, told] of cases) {
        const answer = await s.scan(payload, 500);
        expect(answer, what).toMatchObject({ type: 'error', code: told });
        const message = (answer as ErrorFrame).message;
        expect(message, what).not.toMatch(/unknown|tag|generation|key|retired|luhn|mismatch/i); // no oracle in the text
        messages.set(told, (messages.get(told) ?? new Set()).add(message));
      }
      expect(messages.get('CARD_INVALID')!.size).toBe(1); // forged, unknown, stale, retired: indistinguishable

      const after = await fx.metrics();
      const expected = new Map<string, number>();
      for (const [, , told] of cases) expected.set(told, (expected.get(told) ?? 0) + 1);
      for (const [code, n] of expected) {
        const delta = metricValue(after, 'scanpay_illegal_scans_total', { reason: code }) - metricValue(before, 'scanpay_illegal_scans_total', { reason: code });
        expect(delta, code).toBe(n);
      }
      // a precise reason would enumerate the issuer's key ids: none appears in the metrics
      for (const [, , , reason] of cases) if (reason !== 'CARD_BLOCKED' && reason !== 'CARD_LOCKED') expect(after).not.toContain(`"${reason}"`);
      expect(metricValue(after, 'scanpay_scans_total', { outcome: 'illegal' }) - metricValue(before, 'scanpay_scans_total', { outcome: 'illegal' })).toBe(cases.length);

      // the legal ones still open sessions: the good card, the re-issued payload
      for (const ok of [good.payloadText, reissued.payloadText]) expect((await s.scan(ok, 500)).type).toBe('auth-required');
      // and nothing moved
      for (const card of [good, stale, blocked, locked]) expect(await balance(card)).toBe(1_000_000);
    });
  });

  describe('S25: PIN attempts', () => {
    it('3 wrong PINs (one per session) lock the card; then even the right PIN is refused', async () => {
      const card = await issue();
      const s = await fx.scanner();
      const wrong = async () => s.pin((await s.open(card.payloadText, 700)).session, WRONG_PIN);

      expect(await wrong()).toMatchObject({ type: 'payment-result', outcome: 'declined', reason: 'PIN_WRONG', attemptsLeft: 2, receipt: null });
      expect(await wrong()).toMatchObject({ outcome: 'declined', reason: 'PIN_WRONG', attemptsLeft: 1 });
      const openedBeforeLock = await s.open(card.payloadText, 700);
      expect(await wrong()).toMatchObject({ outcome: 'declined', reason: 'CARD_LOCKED', attemptsLeft: 0 });

      expect(await s.scan(card.payloadText, 700)).toMatchObject({ type: 'error', code: 'CARD_LOCKED' });
      // a session opened before the lock cannot be used to keep guessing, nor to pay
      expect(await s.pin(openedBeforeLock.session, PIN)).toMatchObject({ outcome: 'declined', reason: 'CARD_LOCKED' });
      expect(await fx.issuer.viewCard(card.pan)).toMatchObject({ status: 'locked', pinFailures: 3, balance: 1_000_000 });
    });

    it('a session takes one attempt: a second PIN for it is not a second guess', async () => {
      const card = await issue();
      const s = await fx.scanner();
      const auth = await s.open(card.payloadText, 700);
      const first = await s.pin(auth.session, WRONG_PIN);
      expect(first).toMatchObject({ reason: 'PIN_WRONG', attemptsLeft: 2, replayed: false });
      // the right PIN on the used session gets the stored answer again, not an evaluation
      expect(await s.pin(auth.session, PIN)).toEqual({ ...first, id: expect.any(String), replayed: true });
      expect(await fx.issuer.viewCard(card.pan)).toMatchObject({ pinFailures: 1, balance: 1_000_000 });
    });

    it('a right PIN resets the count of wrong ones', async () => {
      const card = await issue();
      const s = await fx.scanner();
      const attempt = async (pin: string) => s.pin((await s.open(card.payloadText, 100)).session, pin);
      expect(await attempt(WRONG_PIN)).toMatchObject({ attemptsLeft: 2 });
      expect(await attempt(WRONG_PIN)).toMatchObject({ attemptsLeft: 1 });
      expect(await attempt(PIN)).toMatchObject({ outcome: 'approved' });
      expect(await attempt(WRONG_PIN)).toMatchObject({ reason: 'PIN_WRONG', attemptsLeft: 2 });
      expect((await fx.issuer.viewCard(card.pan)).status).toBe('active');
    });
  });

  describe('sessions', () => {
    it('expire: a PIN after the TTL → SESSION_EXPIRED, and the page is gone', async () => {
      const short = await startGatewayFixture({ store: ts.store, keyRing: fx.keyRing, threads: 1, gateway: { sessionTtlMs: 200 } });
      try {
        const card = await short.issue();
        issued.push(card);
        const s = await short.scanner();
        const auth = await s.open(card.payloadText, 300);
        expect(auth.expiresAt - Date.now()).toBeLessThanOrEqual(200);
        await sleep(400);
        expect(await s.pin(auth.session, PIN)).toMatchObject({ type: 'error', code: 'SESSION_EXPIRED' });
        expect((await fetch(auth.url)).status).toBe(404);
        expect(await short.issuer.viewCard(card.pan)).toMatchObject({ balance: 1_000_000, pinFailures: 0 });
      } finally {
        await short.close();
      }
    });

    it('are single-use: a used session replays the same result (same receipt) and pays once', async () => {
      const card = await issue({ balance: 20_000 });
      const s = await fx.scanner();
      const auth = await s.open(card.payloadText, 5_000);
      const first = await s.pin(auth.session, PIN) as PaymentResultFrame;
      expect(first).toMatchObject({ outcome: 'approved', replayed: false });
      const again = await s.pin(auth.session, PIN) as PaymentResultFrame;
      expect(again).toMatchObject({ type: 'payment-result', session: auth.session, outcome: 'approved', replayed: true });
      expect(again.receipt).toEqual(first.receipt);
      // even with a wrong PIN the used session only replays: no guess is taken
      expect(await s.pin(auth.session, WRONG_PIN)).toMatchObject({ replayed: true, receipt: first.receipt });
      // and through the page
      const page = await fetch(`${fx.gateway.url}/auth/${auth.session}`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: fx.gateway.url },
        body: new URLSearchParams({ t: new URL(auth.url).searchParams.get('t')!, pin: PIN }).toString(),
      });
      expect(page.status).toBe(200);
      expect(await s.next((f) => f.type === 'payment-result' && f.id === null)).toMatchObject({ replayed: true, receipt: first.receipt });
      // another scanner learns nothing about it: not even that it is used
      const other = await fx.scanner();
      const foreign = await other.pin(auth.session, PIN);
      expect(foreign).toMatchObject({ type: 'error', code: 'SESSION_WRONG_SCANNER' });
      expect(JSON.stringify(foreign)).not.toContain('receipt');
      expect(await balance(card)).toBe(15_000);
      expect(await fx.issuer.viewCard(card.pan)).toMatchObject({ pinFailures: 0 });
    });

    it('are bound to their scanner: another scanner gets SESSION_WRONG_SCANNER and the right one still pays', async () => {
      const card = await issue({ balance: 10_000 });
      const owner = await fx.scanner();
      const thief = await fx.scanner();
      const auth = await owner.open(card.payloadText, 2_500);
      expect(await thief.pin(auth.session, PIN)).toMatchObject({ type: 'error', code: 'SESSION_WRONG_SCANNER' });
      expect(await thief.pin(auth.session, WRONG_PIN)).toMatchObject({ type: 'error', code: 'SESSION_WRONG_SCANNER' });
      expect(await owner.pin(auth.session, PIN)).toMatchObject({ outcome: 'approved', replayed: false });
      expect(await balance(card)).toBe(7_500);
      expect(await fx.issuer.viewCard(card.pan)).toMatchObject({ pinFailures: 0 });
      expect(thief.drain()).toEqual([]); // no push of the owner's result
    });

    it('an unknown session id → SESSION_UNKNOWN', async () => {
      const s = await fx.scanner();
      expect(await s.pin(randomBytes(16).toString('hex'), PIN)).toMatchObject({ type: 'error', code: 'SESSION_UNKNOWN' });
    });
  });

  describe('exactly once under duplicate frames', () => {
    for (const sameId of [false, true]) {
      it(`the same PIN frame sent twice back-to-back (${sameId ? 'same id' : 'different ids'}) pays once`, () => bystander.aside(async () => {
        const card = await issue({ balance: 10_000 });
        const s = await fx.scanner();
        const auth = await s.open(card.payloadText, 1_000);
        const approvedBefore = metricValue(await fx.metrics(), 'scanpay_payments_total', { outcome: 'approved', reason: 'none' });
        const id1 = s.sendPin(auth.session, PIN);
        const id2 = s.sendPin(auth.session, PIN, sameId ? id1 : undefined);
        const answers = [await s.answer(id1), await s.answer(id2)];

        const paid = answers.filter((a) => a.type === 'payment-result' && a.outcome === 'approved' && !a.replayed);
        expect(paid).toHaveLength(1);
        const [other] = answers.filter((a) => a !== paid[0]);
        if (sameId) {
          // the first is still outstanding: its id is in use, so the second is refused before it is looked at
          expect(other).toMatchObject({ type: 'error', id: id1, code: 'BAD_FRAME', message: expect.stringContaining('in use by an outstanding request') });
        } else {
          // the duplicate waits for the first attempt and gets its result, never a second payment
          expect(other).toMatchObject({ type: 'payment-result', id: id2, replayed: true, receipt: (paid[0] as PaymentResultFrame).receipt });
        }
        expect(s.drain()).toEqual([]);
        expect(await balance(card)).toBe(9_000);
        expect(metricValue(await fx.metrics(), 'scanpay_payments_total', { outcome: 'approved', reason: 'none' }) - approvedBefore).toBe(1);
      }));
    }

    // A duplicate PIN frame that arrives while the first is still being paid waits for its answer
    // (gateway/flow/pin.ts replay()) instead of being told to rescan.
    it('a duplicate of an in-flight PIN frame gets the replayed result, not SESSION_USED', async () => {
      const card = await issue();
      const s = await fx.scanner();
      const auth = await s.open(card.payloadText, 1_000);
      const id1 = s.sendPin(auth.session, PIN);
      const id2 = s.sendPin(auth.session, PIN);
      const answers = [await s.answer(id1), await s.answer(id2)];
      expect(answers.map((a) => a.type === 'payment-result' && a.replayed)).toEqual([false, true]);
    });

    it('20 concurrent duplicate PIN frames over 4 connections of one scanner → exactly one payment', () => bystander.aside(async () => {
      const card = await issue({ balance: 10_000 });
      const device = uniqueDevice('multi');
      const conns = await Promise.all([0, 1, 2, 3].map(() => fx.scanner(device)));
      const auth = await conns[0].open(card.payloadText, 3_000);
      const approvedBefore = metricValue(await fx.metrics(), 'scanpay_payments_total', { outcome: 'approved', reason: 'none' });
      const sent = Array.from({ length: 20 }, (_, i) => ({ conn: conns[i % 4], id: conns[i % 4].sendPin(auth.session, PIN) }));
      const answers = await Promise.all(sent.map(({ conn, id }) => conn.answer(id)));

      const paid = answers.filter((a) => a.type === 'payment-result' && a.outcome === 'approved' && !a.replayed);
      expect(paid).toHaveLength(1);
      for (const a of answers) expect(a).toMatchObject({ type: 'payment-result', outcome: 'approved', receipt: (paid[0] as PaymentResultFrame).receipt });
      expect(await balance(card)).toBe(7_000);
      expect(metricValue(await fx.metrics(), 'scanpay_payments_total', { outcome: 'approved', reason: 'none' }) - approvedBefore).toBe(1);
      expect((await fx.store.getLedgerRecord(auth.session))!.balanceAfter).toBe(7_000);
    }));
  });

  describe('scanner authentication at upgrade', () => {
    it('no token, a bad MAC, a malformed, expired or replayed token → HTTP 401', async () => {
      const url = fx.gateway.scannerUrl;
      const device = uniqueDevice();
      const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
      const wrongFleet = new Uint8Array(randomBytes(32));

      expect(await upgradeOutcome(url)).toBe(401);
      expect(await upgradeOutcome(url, bearer(signScannerToken(device, deviceSecret(wrongFleet, device))))).toBe(401);
      const good = fx.token(device);
      expect(await upgradeOutcome(url, bearer(`${good.slice(0, -1)}${good.endsWith('0') ? '1' : '0'}`))).toBe(401);
      expect(await upgradeOutcome(url, bearer(good.replace(device, uniqueDevice())))).toBe(401); // MAC of another device
      expect(await upgradeOutcome(url, bearer('v1.garbage'))).toBe(401);
      expect(await upgradeOutcome(url, { authorization: `Basic ${Buffer.from(`${device}:x`).toString('base64')}` })).toBe(401);
      expect(await upgradeOutcome(url, bearer(fx.token(device, Date.now() - 10 * 60_000)))).toBe(401);
      expect(await upgradeOutcome(url, bearer(fx.token(device, Date.now() + 10 * 60_000)))).toBe(401);

      expect(await upgradeOutcome(url, bearer(good))).toBe('open');
      expect(await upgradeOutcome(url, bearer(good))).toBe(401); // replayed
      const viaQuery = fx.token(device);
      expect(await upgradeOutcome(`${url}?token=${viaQuery}`)).toBe('open');
      expect(await upgradeOutcome(`${url}?token=${viaQuery}`)).toBe(401);
    });
  });

  describe('auth page access', () => {
    it('a wrong or missing token, an unknown or malformed session → the same 404; none of it uses the session', async () => {
      const card = await issue({ balance: 10_000 });
      const s = await fx.scanner();
      const auth = await s.open(card.payloadText, 1_000);
      const base = `${fx.gateway.url}/auth/${auth.session}`;
      const otherAuth = await s.open(card.payloadText, 1_000);
      const otherToken = new URL(otherAuth.url).searchParams.get('t')!;
      const post = (path: string, form: Record<string, string>, type = 'application/x-www-form-urlencoded') =>
        fetch(`${fx.gateway.url}${path}`, { method: 'POST', headers: { 'content-type': type, origin: fx.gateway.url }, body: new URLSearchParams(form).toString() });

      const unknown = randomBytes(16).toString('hex');
      const refusals = [
        fetch(base), fetch(`${base}?t=${'0'.repeat(64)}`), fetch(`${base}?t=${otherToken}`), fetch(`${base}?t=zz`),
        post(`/auth/${auth.session}`, { pin: PIN }), post(`/auth/${auth.session}`, { t: '0'.repeat(64), pin: PIN }),
        post(`/auth/${auth.session}`, { t: otherToken, pin: WRONG_PIN }),
        fetch(`${fx.gateway.url}/auth/${unknown}?t=${otherToken}`), post(`/auth/${unknown}`, { t: otherToken, pin: PIN }),
        fetch(`${fx.gateway.url}/auth/not-a-session`),
      ];
      const answers = await Promise.all(refusals.map(async (r) => ({ status: (await r).status, body: await (await r).text() })));
      for (const answer of answers) expect(answer).toEqual(answers[0]);
      expect(answers[0].status).toBe(404);
      expect((await post(`/auth/${auth.session}`, { t: otherToken, pin: PIN }, 'application/json')).status).toBe(415);
      const big = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: fx.gateway.url }, body: 'x'.repeat(10_000) });
      expect(big.status).toBe(413);

      expect(await fx.issuer.viewCard(card.pan)).toMatchObject({ balance: 10_000, pinFailures: 0 });
      expect(await s.pin(auth.session, PIN)).toMatchObject({ outcome: 'approved', replayed: false });
    });
  });

  describe('hostile frames (a bystander scanner keeps paying meanwhile)', () => {
    it('malformed frames each get a typed error and change nothing; the connection stays usable', async () => {
      const s = await fx.scanner();
      const card = await issue({ balance: 10_000 });
      const auth = await s.open(card.payloadText, 100);
      const frames: [what: string, frame: string | object | Uint8Array, code: string][] = [
        ['not JSON', '{"v":1,"type":', 'BAD_FRAME'],
        ['a JSON array', '[1,2,3]', 'BAD_FRAME'],
        ['a JSON string', '"ping"', 'BAD_FRAME'],
        ['null', 'null', 'BAD_FRAME'],
        ['an unknown type', { v: 1, type: 'refund', id: 'x1', session: auth.session }, 'BAD_FRAME'],
        ['a missing type', { v: 1, id: 'x2' }, 'BAD_FRAME'],
        ['missing fields', { v: 1, type: 'scan', id: 'x3' }, 'BAD_FRAME'],
        ['extra fields', { v: 1, type: 'pin', id: 'x4', session: auth.session, pin: PIN, amount: 1 }, 'BAD_FRAME'],
        ['a wrongly typed field', { v: 1, type: 'pin', id: 'x5', session: auth.session, pin: 1234 }, 'BAD_FRAME'],
        ['a PIN of letters', { v: 1, type: 'pin', id: 'x6', session: auth.session, pin: 'abcd' }, 'BAD_FRAME'],
        ['a negative amount', { v: 1, type: 'scan', id: 'x7', payload: card.payloadText, amount: -5, currency: 'EUR', merchant: MERCHANT }, 'BAD_FRAME'],
        ['a fractional amount', { v: 1, type: 'scan', id: 'x8', payload: card.payloadText, amount: 1.5, currency: 'EUR', merchant: MERCHANT }, 'BAD_FRAME'],
        ['v: 2', { v: 2, type: 'ping', id: 'x9' }, 'UNSUPPORTED_VERSION'],
        ['v missing', { type: 'ping', id: 'x10' }, 'BAD_FRAME'],
        ['a binary frame', new Uint8Array([123, 125]), 'BAD_FRAME'],
        ['3 KB of text', JSON.stringify({ v: 1, type: 'ping', id: 'big', pad: 'x'.repeat(3_000) }), 'FRAME_TOO_LARGE'],
      ];
      for (const [what, frame, code] of frames) {
        s.send(frame);
        const answer = await s.next();
        expect(answer, what).toMatchObject({ type: 'error', code });
        // the error names the request when its id could be read (else null), and never echoes the frame
        const sentId = typeof frame === 'string' ? /"id":"([^"]+)"/.exec(frame)?.[1] ?? null
          : frame instanceof Uint8Array ? null : (frame as { id?: string }).id ?? null;
        expect([null, sentId], what).toContain((answer as ErrorFrame).id);
        if (code === 'FRAME_TOO_LARGE') expect((answer as ErrorFrame).id, what).toBe(sentId); // read from the text (v1.1)
        expect(JSON.stringify(answer), what).not.toContain(card.payloadText);
      }
      expect(s.isOpen).toBe(true);
      expect(await fx.issuer.viewCard(card.pan)).toMatchObject({ balance: 10_000, pinFailures: 0 });
      // the session the bad frames named is untouched, and this connection still pays
      expect(await s.pin(auth.session, PIN)).toMatchObject({ outcome: 'approved', replayed: false });
      expect(await balance(card)).toBe(9_900);
    });

    it('a frame beyond the hard limit closes only that connection', async () => {
      const s = await fx.scanner();
      s.send('x'.repeat(64 * 1024));
      const closed = await s.waitClosed();
      expect(closed.code).not.toBe(1000);
      const again = await fx.scanner(s.deviceId); // the scanner reconnects and pays
      const card = await issue();
      expect(await again.pin((await again.open(card.payloadText, 100)).session, PIN)).toMatchObject({ outcome: 'approved' });
    });

    it('a blast of 100 pings is rate limited; the scanner recovers after a pause', async () => {
      const s = await fx.scanner();
      const rejectedBefore = metricValue(await fx.metrics(), 'scanpay_frames_rejected_total', { code: 'RATE_LIMITED' });
      const ids = Array.from({ length: 100 }, () => s.newId());
      for (const id of ids) s.send({ v: 1, type: 'ping', id });
      const answers: GatewayFrame[] = [];
      for (let i = 0; i < 100; i++) answers.push(await s.next((f) => f.type === 'pong' || isError('RATE_LIMITED')(f)));
      const pongs = answers.filter((a) => a.type === 'pong').length;
      const limited = answers.filter(isError('RATE_LIMITED')).length;
      expect(pongs + limited).toBe(100);
      expect(limited).toBeGreaterThan(0);
      expect(pongs).toBeGreaterThanOrEqual(s.welcome.limits.framesPerSecond); // the burst went through
      expect(metricValue(await fx.metrics(), 'scanpay_frames_rejected_total', { code: 'RATE_LIMITED' }) - rejectedBefore).toBe(limited);
      expect(s.isOpen).toBe(true);

      await sleep(1_000);
      const card = await issue();
      expect(await s.pin((await s.open(card.payloadText, 100)).session, PIN)).toMatchObject({ outcome: 'approved' });
    });

    it('the bystander scanner kept completing payments throughout', async () => {
      const before = bystander.payments;
      await sleep(300);
      await bystander.stop();
      expect(bystander.failures).toEqual([]);
      expect(bystander.payments).toBeGreaterThan(before);
      expect(bystander.payments).toBeGreaterThanOrEqual(5);
      expect(await balance(bystanderCard)).toBe(10_000_000 - 10 * bystander.payments);
    });
  });

  describe('logs', () => {
    it('a full flow with failures logs masked PANs only: no PAN, no PIN, no payload', async () => {
      const card = await issue({ balance: 10_000 });
      const s = await fx.scanner();
      // failures: illegal scans, a wrong PIN, a foreign session, bad frames; then a page-flow payment
      await s.scan(tampered(card.payloadText, 40), 100);
      await s.scan('not a card', 100);
      await s.pin((await s.open(card.payloadText, 100)).session, WRONG_PIN);
      const auth: AuthRequiredFrame = await s.open(card.payloadText, 250);
      await (await fx.scanner()).pin(auth.session, PIN);
      s.send('{oops');
      await s.next();
      await fetch(`${fx.gateway.url}/auth/${auth.session}?t=${'1'.repeat(64)}`);
      await fetch(`${fx.gateway.url}/auth/${auth.session}`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: fx.gateway.url },
        body: new URLSearchParams({ t: new URL(auth.url).searchParams.get('t')!, pin: PIN }).toString(),
      });
      expect(await s.next((f) => f.type === 'payment-result' && f.id === null)).toMatchObject({ outcome: 'approved' });

      const text = log.text();
      const lines = log.lines();
      expect(lines.length).toBeGreaterThan(10);
      expect(issued.length).toBeGreaterThan(10);
      for (const c of issued) {
        expect(text).not.toContain(c.pan);
        expect(text).not.toContain(c.payloadText);
      }
      // no field named pin (or any other secret) holds a value, at any depth
      const secrets = new Set(['pin', 'pan', 'payload', 'basicKey', 'kek', 'key', 'secret', 'token', 'pvv']);
      const walk = (value: unknown, path: string): void => {
        if (value === null || typeof value !== 'object') return;
        for (const [k, v] of Object.entries(value)) {
          if (secrets.has(k)) expect(v, `${path}.${k}`).toBe('[redacted]');
          walk(v, `${path}.${k}`);
        }
      };
      lines.forEach((line, i) => walk(line, `line ${i}`));
      expect(text).not.toMatch(/"pin":"\d{4}"/);

      // what is logged is useful: the masked card, the precise illegal reason, the wrong PIN, the payment
      const events = lines.map((l) => l.event);
      for (const e of ['session.opened', 'scan.illegal', 'pin.wrong', 'pin.refused', 'payment']) expect(events).toContain(e);
      const last4 = card.pan.slice(-4);
      expect(lines.some((l) => l.event === 'payment' && l.card === `•••• •••• •••• ${last4}`)).toBe(true);
      expect(lines.filter((l) => l.event === 'scan.illegal').map((l) => l.reason)).toEqual(
        expect.arrayContaining(['PAYLOAD_TAG_INVALID', 'PAYLOAD_MALFORMED', 'CARD_UNKNOWN', 'GENERATION_STALE', 'KEY_RETIRED']),
      );

      // nor in /metrics
      const metrics = await fx.metrics();
      for (const c of issued) expect(metrics).not.toContain(c.pan);
      expect(metrics).not.toContain(auth.session);
    });
  });
}

describe('security on the embedded store (MemoryStore)', () => {
  securitySuite(memoryTestStore);
});

describeRedis(redis, 'security on Redis (RedisStore)', (r) => {
  securitySuite(() => redisTestStore(r));

  it('the PIN lockout survives a gateway restart (same Redis prefix)', async () => {
    const ts = await redisTestStore(r);
    const fleetKey = new Uint8Array(randomBytes(32));
    const first = await startGatewayFixture({ store: ts.store, threads: 1, fleetKey });
    let second: GatewayFixture | undefined;
    try {
      const card = await first.issue();
      const device = uniqueDevice('restart');
      const wrong = async (s: RawScanner) => s.pin((await s.open(card.payloadText, 100)).session, WRONG_PIN);
      const a = await first.scanner(device);
      expect(await wrong(a)).toMatchObject({ reason: 'PIN_WRONG', attemptsLeft: 2 });
      expect(await wrong(a)).toMatchObject({ reason: 'PIN_WRONG', attemptsLeft: 1 });
      await first.close();

      // a new gateway process: nothing in memory survives, only Redis (a new connection on the same prefix)
      second = await startGatewayFixture({ store: await ts.reopen(), threads: 1, keyRing: first.keyRing, fleetKey });
      const b = await second.scanner(device);
      expect(await wrong(b)).toMatchObject({ reason: 'CARD_LOCKED', attemptsLeft: 0 });
      expect(await b.scan(card.payloadText, 100)).toMatchObject({ type: 'error', code: 'CARD_LOCKED' });
      expect(await second.issuer.viewCard(card.pan)).toMatchObject({ status: 'locked', pinFailures: 3, balance: 1_000_000 });
    } finally {
      await first.close();
      await second?.close();
      await ts.dispose();
    }
  });
});
