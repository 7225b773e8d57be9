/**
 * The running gateway the black-box targets (scanner-frames.ts, page-post.ts) attack: startGateway on a
 * MemoryStore through the test fixture, with the frame rate limit lifted (a fuzzer sends thousands of
 * frames a second), two cards, and sessions opened by an *owner* scanner the fuzzer is not. A rejected
 * input must leave all of it as it was: `unchanged()` compares every card's view and the ledger of every
 * owner session; `stillServes()` pays one owner session for real at the end, proving the gateway still
 * works and the session was not consumed by anything the fuzzer sent.
 */
import { MemoryStore } from '../../../issuer/store/index.ts';
import type { AuthRequiredFrame } from '../../../protocol/messages.ts';
import { PIN, startGatewayFixture, type GatewayFixture, type RawScanner } from '../../support/gateway-fixture.ts';

export interface GatewayBench {
  fx: GatewayFixture;
  owner: RawScanner;
  /** Payload texts a scan may legitimately open a session with. */
  legalPayloads: Set<string>;
  /** Sessions the owner opened; the fuzzer may name them but must never use them. */
  sessions: AuthRequiredFrame[];
  /** Throws when a card's view or an owner session's ledger entry changed. */
  unchanged(): Promise<void>;
  /** The owner pays its first session: approved, exactly once, balance down by the amount. */
  stillServes(): Promise<void>;
  close(): Promise<void>;
}

const AMOUNT = 1_250;

export async function gatewayBench(): Promise<GatewayBench> {
  const store = new MemoryStore();
  // limits out of the way: these targets fuzz the decoders and the page, not the limiters (attack.test.ts tries those)
  const unlimited = { perSecond: 1_000_000, burst: 1_000_000 };
  const fx = await startGatewayFixture({ store, gateway: { framesPerSecond: 1_000_000, burst: 1_000_000, pageLimits: { perAddress: unlimited, perSession: unlimited, refusedPerAddress: unlimited, viewsPerAddress: unlimited } } });
  const cards = [await fx.issue(), await fx.issue({ balance: 100 })];
  const owner = await fx.scanner();
  const sessions = [await owner.open(cards[0].payloadText, AMOUNT), await owner.open(cards[1].payloadText, AMOUNT)];
  const views = async () => JSON.stringify(await Promise.all(cards.map((c) => fx.issuer.viewCard(c.pan))));
  const before = await views();
  return {
    fx, owner, sessions,
    legalPayloads: new Set(cards.map((c) => c.payloadText)),
    async unchanged() {
      if ((await views()) !== before) throw new Error('a card changed (balance, status, PIN failures or generation)');
      for (const s of sessions) if (await store.getLedgerRecord(s.session)) throw new Error(`session ${s.session} reached the ledger`);
    },
    async stillServes() {
      const [balanceBefore] = JSON.parse(before) as { balance: number }[];
      const result = await owner.pin(sessions[0].session, PIN);
      if (result.type !== 'payment-result' || result.outcome !== 'approved' || result.replayed) throw new Error(`owner payment after fuzzing: ${JSON.stringify(result)}`);
      const after = await fx.issuer.viewCard(cards[0].pan);
      if (after.balance !== balanceBefore.balance - AMOUNT) throw new Error(`balance ${after.balance}, expected ${balanceBefore.balance - AMOUNT}`);
    },
    async close() {
      await fx.close();
      await store.close();
    },
  };
}
