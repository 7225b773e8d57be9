/**
 * Records for store tests: a valid card, session and payment request with random keys, each overridable.
 * @example
 *   const card = makeCard({ balance: 500 });
 *   const session = makeSession(card, { scannerId: 'lane-2' });
 */
import { randomBytes } from 'node:crypto';
import type { AuthSession, CardRecord, PaymentRequest } from '../../issuer/store/types.ts';
import { randomPan } from './dvd1-fixture.ts';

const bytes = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

export const newSessionId = (): string => randomBytes(16).toString('hex');

export function makeCard(overrides: Partial<CardRecord> = {}): CardRecord {
  return {
    pan: randomPan(),
    generation: 1,
    keyId: 1,
    status: 'active',
    wrappedBasicKey: bytes(60),
    pvv: bytes(32),
    currency: 'EUR',
    limit: 100_000,
    balance: 50_000,
    pinFailures: 0,
    updatedAt: Date.now(),
    ...overrides,
  };
}

export function makeSession(card: CardRecord, overrides: Partial<AuthSession> = {}): AuthSession {
  const createdAt = Date.now();
  return {
    id: newSessionId(),
    scannerId: 'scanner-1',
    pan: card.pan,
    payload: 'SP1:ciphertexts-only',
    amount: 1_250,
    currency: card.currency,
    merchant: 'Corner Café',
    createdAt,
    expiresAt: createdAt + 120_000,
    ...overrides,
  };
}

export function makePayment(card: CardRecord, overrides: Partial<PaymentRequest> = {}): PaymentRequest {
  return {
    sessionId: newSessionId(),
    pan: card.pan,
    merchant: 'Corner Café',
    amount: 1_250,
    currency: card.currency,
    cryptogram: randomBytes(32).toString('hex'),
    at: Date.now(),
    ...overrides,
  };
}
