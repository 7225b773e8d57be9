/**
 * The issuer (the patent's transaction server): owns the card database, writes the encrypted PAN and
 * encrypted basic key onto each card, and manages a card's life: issue, re-issue, block, unblock, PIN change.
 * @example
 *   const issuer = new Issuer({ core, store, keyRing });
 *   const card = await issuer.issueCard({ pin: '1234', limit: 50_000, currency: 'EUR' });
 */
import { randomBytes } from 'node:crypto';
import { ScanpayError } from '../core/errors.ts';
import type { CryptoCore } from '../core/types.ts';
import { parseCurrency, parseMinorUnits } from '../protocol/values.ts';
import type { IssuerKeyRing } from './key-ring.ts';
import { assertBin, drawPan, isPanShaped, maskPan } from './pan.ts';
import { payloadToText, sealPayload } from './payload.ts';
import { assertPin, pinVerificationValue, unwrapBasicKey, wrapBasicKey } from './card-secrets.ts';
import { judgePayloads, panOfPayload, type Verdict } from './verifier.ts';
import type { CardRecord, CardStatus, Store } from './store/types.ts';
import { cardPolicy, type CardPolicy, type EnrolmentRecord, type EnrolmentRevocation } from './store/wallet-types.ts';

export const DEFAULT_BIN = '400000';
const PAN_DRAWS = 20; // collisions are rare; a run of 20 means the BIN is nearly full

export interface IssueCardInput {
  pin: string; // 4 digits
  limit: number; // largest single payment, minor units
  balance?: number; // funds available, minor units; defaults to limit
  currency: string; // ISO 4217
}

/** What may be shown of a card: never the PAN in full, never key material. */
export interface CardView {
  maskedPan: string;
  status: CardStatus;
  generation: number;
  keyId: number;
  limit: number;
  balance: number;
  currency: string;
  pinFailures: number;
}

/** A freshly written card: the payload (for the QR code) and, once, the full PAN for the holder. */
export interface IssuedCard {
  pan: string;
  view: CardView;
  payload: Uint8Array;
  payloadText: string;
}

export interface IssuerOptions {
  core: CryptoCore;
  store: Store;
  keyRing: IssuerKeyRing;
  bin?: string;
}

/** A card's currency: an ISO 4217 code the runtime knows (protocol/values.ts), else BAD_ARGUMENT. */
export function assertCurrency(value: unknown): string {
  return parseCurrency(value, { known: true });
}

export function viewOf(card: CardRecord): CardView {
  const { status, generation, keyId, limit, balance, currency, pinFailures } = card;
  return { maskedPan: maskPan(card.last4), status, generation, keyId, limit, balance, currency, pinFailures };
}

export class Issuer {
  readonly #core: CryptoCore;
  readonly #store: Store;
  readonly #keyRing: IssuerKeyRing;
  readonly #bin: string;

  constructor(opts: IssuerOptions) {
    this.#core = opts.core;
    this.#store = opts.store;
    this.#keyRing = opts.keyRing;
    this.#bin = assertBin(opts.bin ?? DEFAULT_BIN);
  }

  async issueCard(input: IssueCardInput): Promise<IssuedCard> {
    const pin = assertPin(input?.pin);
    const limit = parseMinorUnits(input.limit, 'limit');
    const balance = parseMinorUnits(input.balance ?? limit, 'balance');
    const currency = assertCurrency(input.currency);
    const basicKey = randomBytes(32);
    const { id: keyId, key } = this.#keyRing.active();
    try {
      for (let draw = 0; draw < PAN_DRAWS; draw++) {
        const pan = drawPan(this.#bin);
        const token = this.#keyRing.cardToken(pan);
        const card: CardRecord = {
          token, last4: pan.slice(-4), generation: 1, keyId, status: 'active', currency, limit, balance,
          pinFailures: 0, pinPaceUntil: 0, updatedAt: Date.now(),
          wrappedBasicKey: wrapBasicKey(this.#core, this.#keyRing.storageKey, token, basicKey),
          basicKeyCheck: this.#keyRing.basicKeyCheck(token, basicKey),
          pvv: pinVerificationValue(this.#core, basicKey, pan, pin),
        };
        if (!(await this.#store.insertCard(card))) continue; // PAN (so its token) taken: draw again
        const payload = sealPayload(this.#core, key, keyId, card.generation, pan, basicKey);
        return { pan, view: viewOf(card), payload, payloadText: payloadToText(payload) };
      }
      throw new ScanpayError('PAN_EXHAUSTED', `BIN ${this.#bin}`);
    } finally {
      basicKey.fill(0);
    }
  }

  /**
   * A new payload for the same card and basic key: generation + 1, sealed under the active issuer key.
   * Every older payload of the card becomes illegal (GENERATION_STALE).
   */
  async reissueCard(pan: string): Promise<IssuedCard> {
    const { id: keyId, key } = this.#keyRing.active();
    const card = await this.#mutate(pan, (c) => ({ ...c, generation: c.generation + 1, keyId, updatedAt: Date.now() }));
    const basicKey = unwrapBasicKey(this.#core, this.#keyRing.storageKey, card.token, card.wrappedBasicKey);
    try {
      const payload = sealPayload(this.#core, key, keyId, card.generation, pan, basicKey);
      return { pan, view: viewOf(card), payload, payloadText: payloadToText(payload) };
    } finally {
      basicKey.fill(0);
    }
  }

  async blockCard(pan: string): Promise<CardView> {
    return viewOf(await this.#mutate(pan, (c) => ({ ...c, status: 'blocked', updatedAt: Date.now() })));
  }

  /** Back to active: also clears a PIN lock, after the operator has verified the holder. */
  async unblockCard(pan: string): Promise<CardView> {
    return viewOf(await this.#mutate(pan, (c) => ({ ...c, status: 'active', pinFailures: 0, pinPaceUntil: 0, updatedAt: Date.now() })));
  }

  async changePin(pan: string, newPin: string): Promise<CardView> {
    assertPin(newPin);
    const card = await this.#getCard(pan);
    const basicKey = unwrapBasicKey(this.#core, this.#keyRing.storageKey, card.token, card.wrappedBasicKey);
    try {
      const pvv = pinVerificationValue(this.#core, basicKey, pan, newPin);
      return viewOf(await this.#mutate(pan, (c) => ({ ...c, pvv, pinFailures: 0, updatedAt: Date.now() })));
    } finally {
      basicKey.fill(0);
    }
  }

  async viewCard(pan: string): Promise<CardView> {
    return viewOf(await this.#getCard(pan));
  }

  /** The card's wallet enrolments (oldest first, revoked ones too) and its wallet policy. */
  async walletsOf(pan: string): Promise<{ view: CardView; policy: CardPolicy; enrolments: EnrolmentRecord[] }> {
    const card = await this.#getCard(pan);
    return { view: viewOf(card), policy: cardPolicy(card), enrolments: await this.#store.listEnrolments(card.token) };
  }

  /** Revokes one enrolment (idempotent): what it did, and the enrolment as it is now (null: the store never had it). */
  async revokeWallet(enrolmentId: string): Promise<{ outcome: EnrolmentRevocation; enrolment: EnrolmentRecord | null }> {
    const outcome = await this.#store.revokeEnrolment(enrolmentId, Date.now());
    return { outcome, enrolment: outcome === 'unknown' ? null : await this.#store.getEnrolment(enrolmentId) };
  }

  /** Changes the card's wallet policy (the fields given; the store checks the whole), resolving to before and after. */
  async setCardPolicy(pan: string, change: Partial<CardPolicy>): Promise<{ view: CardView; before: CardPolicy; after: CardPolicy }> {
    let before: CardPolicy | undefined;
    const card = await this.#mutate(pan, (c) => {
      before = cardPolicy(c);
      return { ...c, ...before, ...change, updatedAt: Date.now() };
    });
    return { view: viewOf(card), before: before!, after: cardPolicy(card) };
  }

  /** S22 for many payloads at once (see legality.ts). */
  judgePayloads(scanned: readonly (string | Uint8Array)[]): Promise<Verdict[]> {
    return judgePayloads({ core: this.#core, keyRing: this.#keyRing, store: this.#store }, scanned);
  }

  /** The PAN an authentic payload carries, even for a blocked card or an old generation. */
  panOfPayload(scanned: string | Uint8Array): string {
    return panOfPayload({ core: this.#core, keyRing: this.#keyRing }, scanned);
  }

  async #getCard(pan: string): Promise<CardRecord> {
    if (!isPanShaped(pan)) throw new ScanpayError('BAD_ARGUMENT', 'PAN must be 16 digits');
    const card = await this.#store.getCard(this.#keyRing.cardToken(pan));
    if (!card) throw new ScanpayError('CARD_UNKNOWN');
    return card;
  }

  async #mutate(pan: string, change: (card: CardRecord) => CardRecord): Promise<CardRecord> {
    if (!isPanShaped(pan)) throw new ScanpayError('BAD_ARGUMENT', 'PAN must be 16 digits');
    const card = await this.#store.updateCard(this.#keyRing.cardToken(pan), change);
    if (!card) throw new ScanpayError('CARD_UNKNOWN');
    return card;
  }
}
