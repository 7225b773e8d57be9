/**
 * docs/ledger.md's worked example of a journal record's hash is what issuer/journal.ts computes, and the canonical
 * event layout it documents is the one eventHash hashes (a receiver or auditor re-implementing either from the doc
 * gets the same bytes).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalEvent, eventHash, recordHash } from '../../issuer/journal.ts';
import type { PaymentEvent } from '../../issuer/store/index.ts';

const doc = readFileSync(new URL('../../docs/ledger.md', import.meta.url), 'utf8');

describe('docs/ledger.md', () => {
  it('its worked record hash is recordHash of the fields it lists', () => {
    const example = /`hash` `([0-9a-f]{64})`/.exec(doc);
    expect(example).not.toBeNull();
    const hash = recordHash({
      seq: 1, eventId: 'ev_5f0c2d1e9a8b7c6d5e4f3a2b1c0d9e8f_1', type: 'payment.approved', paymentId: '5f0c2d1e9a8b7c6d5e4f3a2b1c0d9e8f',
      period: 1, eventHash: 'a'.repeat(64), prevHash: '0'.repeat(64), sealedAt: 1764979200000,
    });
    expect(hash).toBe(example![1]);
    // and by the rule the doc states, from scratch
    const lines = ['scanpay/v1/journal', '0'.repeat(64), 1, 'ev_5f0c2d1e9a8b7c6d5e4f3a2b1c0d9e8f_1', 'payment.approved', '5f0c2d1e9a8b7c6d5e4f3a2b1c0d9e8f', 1, 'a'.repeat(64), 1764979200000];
    expect(createHash('sha256').update(lines.join('\n')).digest('hex')).toBe(hash);
  });

  it('an event\'s canonical bytes are the documented array, and eventHash its SHA-256', () => {
    const id = '5f0c2d1e9a8b7c6d5e4f3a2b1c0d9e8f';
    const event: PaymentEvent = {
      id: `ev_${id}_2`, type: 'refund.created', merchant: 'corner-cafe', paymentId: id, n: 2, createdAt: 2_000,
      payment: {
        id, merchant: 'corner-cafe', cardToken: 'c'.repeat(32), last4: '4242', currency: 'EUR', amount: 1_000, status: 'partially_refunded',
        declineReason: null, captureMethod: 'automatic', capturedAmount: 1_000, refundedAmount: 300, holdExpiresAt: null, reversal: null,
        createdAt: 1_000, updatedAt: 2_000,
      },
      refund: { id: `re_${'d'.repeat(32)}`, paymentId: id, merchant: 'corner-cafe', amount: 300, currency: 'EUR', reason: null, createdAt: 2_000 },
      action: null,
      entries: [{ paymentId: id, seq: 3, type: 'refund', amount: 300, balanceChange: 300, balanceAfter: 9_300, cause: 'op', refundId: `re_${'d'.repeat(32)}`, at: 2_000 }],
    };
    const documented = JSON.stringify(['scanpay/v1/event', event.id, 'refund.created', 'corner-cafe', id, 2, 2_000,
      [id, 'corner-cafe', 'c'.repeat(32), '4242', 'EUR', 1_000, 'partially_refunded', null, 'automatic', 1_000, 300, null, null, 1_000, 2_000],
      [`re_${'d'.repeat(32)}`, id, 'corner-cafe', 300, 'EUR', null, 2_000], null,
      [[id, 3, 'refund', 300, 300, 9_300, 'op', `re_${'d'.repeat(32)}`, 2_000]]]);
    expect(canonicalEvent(event)).toBe(documented);
    expect(eventHash(event)).toBe(createHash('sha256').update(documented).digest('hex'));
  });
});
