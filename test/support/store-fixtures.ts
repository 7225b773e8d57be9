/**
 * Records for store tests: a valid card, session and payment request with random keys, each overridable.
 * Sessions and payments are on their card's shard, as the gateway makes them (keys.ts newSessionId).
 * @example
 *   const card = makeCard({ balance: 500 });
 *   const session = makeSession(card, { deviceId: 'lane-2' });
 */
import { randomBytes } from 'node:crypto';
import { newSessionId } from '../../issuer/session-id.ts';
import type { AuthSession, CardClaim, CardRecord, PaymentRequest } from '../../issuer/store/types.ts';

const bytes = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

export const newCardToken = (): string => randomBytes(16).toString('hex');
export const newAttempt = (): string => randomBytes(16).toString('hex');
export { newSessionId };

/** Every card makeCard made, by token: what claimFor reads its claim from. */
const made = new Map<string, CardRecord>();

export function makeCard(overrides: Partial<CardRecord> = {}): CardRecord {
  const card: CardRecord = {
    token: newCardToken(),
    last4: String(1000 + Math.floor(Math.random() * 9000)),
    generation: 1,
    keyId: 1,
    status: 'active',
    wrappedBasicKey: bytes(60),
    basicKeyCheck: bytes(16),
    pvv: bytes(32),
    currency: 'EUR',
    limit: 100_000,
    balance: 50_000,
    pinFailures: 0,
    pinPaceUntil: 0,
    updatedAt: Date.now(),
    ...overrides,
  };
  made.set(card.token, card);
  return card;
}

/**
 * What a genuine scan of a card that makeCard made claims about its row (the basic key's check, generation and
 * key id as the card was made): openSession stores a session for it while the row still says the same.
 */
export function claimFor(cardOrSession: { token: string } | { cardToken: string }, overrides: Partial<CardClaim> = {}): CardClaim {
  const token = 'token' in cardOrSession ? cardOrSession.token : cardOrSession.cardToken;
  const card = made.get(token);
  if (!card) throw new Error('claimFor: a card makeCard did not make');
  return { basicKeyCheck: card.basicKeyCheck, generation: card.generation, keyId: card.keyId, ...overrides };
}

export function makeSession(card: CardRecord, overrides: Partial<AuthSession> = {}): AuthSession {
  const createdAt = Date.now();
  return {
    id: newSessionId(card.token),
    deviceId: 'scanner-1',
    cardToken: card.token,
    last4: card.last4,
    payload: bytes(112), // shape only: the store keeps the payload's bytes, it never opens them
    amount: 1_250,
    currency: card.currency,
    merchant: 'corner-cafe',
    captureMethod: 'automatic',
    holdWindowMs: 7 * 86_400_000,
    createdAt,
    expiresAt: createdAt + 120_000,
    ...overrides,
  };
}

export function makePayment(card: CardRecord, overrides: Partial<PaymentRequest> = {}): PaymentRequest {
  return {
    sessionId: newSessionId(card.token),
    cardToken: card.token,
    last4: card.last4,
    merchant: 'corner-cafe',
    amount: 1_250,
    currency: card.currency,
    cryptogram: randomBytes(32).toString('hex'),
    at: Date.now(),
    captureMethod: 'automatic',
    holdWindowMs: 7 * 86_400_000,
    attempt: newAttempt(),
    ...overrides,
  };
}
