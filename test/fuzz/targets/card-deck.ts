/**
 * The cards the payload targets mutate: issued through the Issuer's public API on a MemoryStore, in every
 * state a scan can meet — active under the active key, active under a decrypt-only key (after a rotation),
 * under a retired key, blocked, and re-issued (whose first payload is stale) — and each card's view, to
 * prove a rejected payload changed nothing.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { loadCore } from '../../../core/index.ts';
import { Issuer, type CardView, type IssuedCard } from '../../../issuer/issuer.ts';
import { IssuerKeyRing } from '../../../issuer/key-ring.ts';
import { sealPayload } from '../../../issuer/payload.ts';
import { MemoryStore } from '../../../issuer/store/index.ts';

export interface CardDeck {
  issuer: Issuer;
  store: MemoryStore;
  /** Every card's PAN, for viewCard. */
  pans: string[];
  /** Payloads that must be judged legal, and their card's token (the store keys cards by it, never by PAN). */
  legal: Map<string, string>; // payload text → card token
  /** Every payload ever written (legal or not): what mutations start from. */
  payloads: IssuedCard[];
  views(): Promise<CardView[]>;
  /**
   * Authentic payloads no card matches, sealed with the issuer's own key (what an insider or a leaked key
   * could make): an unknown PAN, a PAN failing Luhn, a real PAN with another basic key, a wrong generation.
   */
  forged: fc.Arbitrary<Uint8Array>;
}

const CARD = { pin: '1234', limit: 50_000, currency: 'EUR' } as const;

export async function cardDeck(): Promise<CardDeck> {
  const core = await loadCore();
  const keyRing = IssuerKeyRing.generate();
  const store = new MemoryStore();
  const issuer = new Issuer({ core, store, keyRing });
  const retiredKeyCard = await issuer.issueCard(CARD); // key 1, retired below
  keyRing.rotate();
  const oldKeyCard = await issuer.issueCard(CARD); // key 2, decrypt-only after the next rotation: still legal
  keyRing.rotate();
  keyRing.retire(1);
  const active = await issuer.issueCard(CARD);
  const blocked = await issuer.issueCard({ ...CARD, balance: 10 });
  await issuer.blockCard(blocked.pan);
  const stale = await issuer.issueCard(CARD);
  const reissued = await issuer.reissueCard(stale.pan);
  const payloads = [retiredKeyCard, oldKeyCard, active, blocked, stale, reissued];
  const pans = [...new Set(payloads.map((c) => c.pan))];
  const forged = fc.tuple(fc.constantFrom(...pans), fc.stringMatching(/^[0-9]{16}$/), fc.constantFrom('pan', 'key', 'generation'))
    .map(([pan, digits, what]) => {
      const { id, key } = keyRing.active();
      const generation = what === 'generation' ? 7 : 1;
      return sealPayload(core, key, id, generation, what === 'pan' ? digits : pan, new Uint8Array(randomBytes(32)));
    });
  return {
    issuer, store, pans, payloads, forged,
    legal: new Map([oldKeyCard, active, reissued].map((c) => [c.payloadText, keyRing.cardToken(c.pan)])),
    views: () => Promise.all(pans.map((pan) => issuer.viewCard(pan))),
  };
}
