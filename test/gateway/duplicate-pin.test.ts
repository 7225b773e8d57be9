/**
 * The duplicate-PIN path of gateway/flow/pin.ts, driven directly (no sockets): a session takes one attempt,
 * and every repeat gets that attempt's answer.
 *  - 50 concurrent submissions for one session from its scanner: the engine evaluates one; all 50 answers
 *    carry the same outcome, 49 of them `replayed: true`, and the card is charged once;
 *  - a repeat after the answer: the stored result (a wrong PIN's too), never a second evaluation;
 *  - another scanner's submission: SESSION_WRONG_SCANNER, and nothing counted;
 *  - an attempt claimed elsewhere (another gateway) and still running: a repeat waits for its result, and
 *    answers BUSY (retryable) if it does not come in time.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadCore } from '../../core/index.ts';
import type { FlowDeps } from '../../gateway/flow/deps.ts';
import { handlePin } from '../../gateway/flow/pin.ts';
import type { CardEngine, PinCheck, PinChecked } from '../../issuer/card-engine.ts';
import { CARD_STATUS } from '../../issuer/card-engine.ts';
import { encodeHeader, PAYLOAD_SIZE } from '../../issuer/payload.ts';
import { MerchantPolicies } from '../../gateway/flow/merchant-policies.ts';
import { MemoryStore } from '../../issuer/store/index.ts';
import type { CardRecord } from '../../issuer/store/types.ts';
import { claimFor, makeCard, makeSession } from '../support/store-fixtures.ts';

const RIGHT = '1234';

/** An engine whose verdict is the PIN alone (right or wrong), answering after `delayMs`; it counts its checks. */
function fakeEngine(delayMs: number): CardEngine & { checks: PinCheck[] } {
  const checks: PinCheck[] = [];
  return {
    checks,
    queueDepth: 0,
    ready: true,
    async openCard() {
      throw new Error('not used');
    },
    async signReceipts() {
      throw new Error('not used');
    },
    async checkEnrolment() {
      throw new Error('not used');
    },
    async checkCode() {
      throw new Error('not used');
    },
    async checkPin(check): Promise<PinChecked> {
      checks.push(check);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return check.pin === RIGHT ? { status: 0, cryptogram: new Uint8Array(randomBytes(32)) } : { status: CARD_STATUS.PVV, cryptogram: null };
    },
    async reloadKeys() {},
    async close() {},
  };
}

async function flow(delayMs = 20): Promise<{ deps: FlowDeps; engine: ReturnType<typeof fakeEngine>; store: MemoryStore }> {
  const engine = fakeEngine(delayMs);
  const store = new MemoryStore();
  const quiet = { debug() {}, info() {}, warn() {} };
  const deps: FlowDeps = {
    core: await loadCore(), engine, store, pageKey: new Uint8Array(32),
    config: { publicUrl: 'http://127.0.0.1:1', sessionTtlMs: 60_000, pinLockAt: 3, pinPaceMs: 0 },
    audit: quiet,
    metrics: { scan() {}, pinAttempt() {}, payment() {}, stepSeconds() {}, pinBudgetSpent() {}, operation() {} },
    pinsInFlight: new Map(),
    revokedDevices: new Set<string>(),
    merchantPolicies: new MerchantPolicies(store.merchants),
    notify() {},
  };
  return { deps, engine, store };
}

/** A card and an open session on it, with a payload whose header matches the card (the engine is fake). */
async function openOn(store: MemoryStore, deviceId = 'lane-1'): Promise<{ card: CardRecord; sessionId: string }> {
  const card = makeCard({ balance: 10_000, limit: 10_000 });
  await store.insertCard(card);
  const payload = new Uint8Array(PAYLOAD_SIZE);
  payload.set(encodeHeader(card.keyId, card.generation));
  const session = makeSession(card, { deviceId, payload, amount: 1_000, merchant: 'shop-1' });
  expect((await store.openSession(session, claimFor(session))).ok).toBe(true);
  return { card, sessionId: session.id };
}

describe('duplicate PIN submissions', () => {
  it('50 at once: one evaluation, one charge, the same answer for all (49 replayed)', async () => {
    const { deps, engine, store } = await flow(30);
    const { card, sessionId } = await openOn(store);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => handlePin(deps, 'lane-1', sessionId, RIGHT, `r${i}`)));
    expect(engine.checks).toHaveLength(1);
    for (const [i, answer] of answers.entries()) {
      expect(answer, `answer ${i}`).toMatchObject({ type: 'payment-result', id: `r${i}`, session: sessionId, outcome: 'approved' });
    }
    expect(answers.filter((a) => a.type === 'payment-result' && a.replayed)).toHaveLength(49);
    const receipts = new Set(answers.map((a) => (a.type === 'payment-result' ? a.receipt?.mac : null)));
    expect(receipts.size).toBe(1); // one ledger record behind every answer
    expect((await store.getCard(card.token))!.balance).toBe(9_000);
  });

  it('a repeat after the answer gets the stored result, a wrong PIN included, without a second evaluation', async () => {
    const { deps, engine, store } = await flow();
    const { card, sessionId } = await openOn(store);
    const first = await handlePin(deps, 'lane-1', sessionId, '0000', 'a');
    expect(first).toMatchObject({ outcome: 'declined', reason: 'PIN_WRONG', attemptsLeft: 2, replayed: false });
    const again = await handlePin(deps, 'lane-1', sessionId, RIGHT, 'b'); // even the right PIN: the session is used
    expect(again).toMatchObject({ id: 'b', outcome: 'declined', reason: 'PIN_WRONG', attemptsLeft: 2, replayed: true });
    expect(engine.checks).toHaveLength(1);
    expect((await store.getCard(card.token))!.pinFailures).toBe(1);
  });

  it("another scanner's submission is refused and counts nothing, before and after the owner's", async () => {
    const { deps, engine, store } = await flow();
    const { card, sessionId } = await openOn(store, 'lane-1');
    expect(await handlePin(deps, 'lane-2', sessionId, RIGHT, 'x')).toMatchObject({ type: 'error', code: 'SESSION_WRONG_SCANNER' });
    expect(await handlePin(deps, 'lane-1', sessionId, RIGHT, 'y')).toMatchObject({ outcome: 'approved', replayed: false });
    expect(await handlePin(deps, 'lane-2', sessionId, RIGHT, 'z')).toMatchObject({ type: 'error', code: 'SESSION_WRONG_SCANNER' });
    expect(engine.checks).toHaveLength(1);
    expect((await store.getCard(card.token))!.pinFailures).toBe(0);
  });

  it('a PIN for a session of a device revoked since is refused DEVICE_REVOKED: nothing evaluated, counted or paid, the session untouched', async () => {
    const { deps, engine, store } = await flow();
    const { card, sessionId } = await openOn(store, 'lane-1');
    (deps.revokedDevices as Set<string>).add('lane-1');
    expect(await handlePin(deps, 'lane-1', sessionId, RIGHT, 'r')).toMatchObject({ type: 'error', id: 'r', code: 'DEVICE_REVOKED' });
    expect(engine.checks).toHaveLength(0);
    expect((await store.getCard(card.token))!).toMatchObject({ pinFailures: 0, balance: 10_000 });
    expect((await store.getSession(sessionId))!.state).toBe('open');
  });

  it('an attempt another gateway claimed: a repeat waits for its result, or answers BUSY when it does not come', async () => {
    const { deps, engine, store } = await flow();
    const { sessionId } = await openOn(store);
    // "another gateway" claims the attempt through the store, as its handlePin would
    const claimed = await store.beginPinAttempt(sessionId, 'lane-1', randomBytes(16).toString('hex'), Date.now(), { lockAt: 3, paceMs: 0 });
    expect(claimed.kind).toBe('evaluate');
    const waiting = handlePin(deps, 'lane-1', sessionId, RIGHT, 'w');
    setTimeout(() => void store.settleFailedPin(sessionId, 'wrong', 3, Date.now()), 300);
    expect(await waiting).toMatchObject({ id: 'w', outcome: 'declined', reason: 'PIN_WRONG', replayed: true });

    const other = await openOn(store);
    await store.beginPinAttempt(other.sessionId, 'lane-1', randomBytes(16).toString('hex'), Date.now(), { lockAt: 3, paceMs: 0 });
    const started = Date.now();
    expect(await handlePin(deps, 'lane-1', other.sessionId, RIGHT, 'v')).toMatchObject({ type: 'error', code: 'BUSY' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500); // it waited (REPLAY_WAIT_MS) before giving up
    expect(engine.checks).toHaveLength(0);
  });
});
