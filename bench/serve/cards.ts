/** The load generator's cards: issued 16 at a time, each with a random PIN and funds no run can spend. */
import { randomInt } from 'node:crypto';
import type { Issuer } from '../../issuer/issuer.ts';

export interface BenchCard {
  payload: string; // QR text
  pin: string;
}

export async function issueBenchCards(issuer: Issuer, count: number): Promise<BenchCard[]> {
  const cards: BenchCard[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < count) {
      next++;
      const pin = String(randomInt(0, 10_000)).padStart(4, '0');
      const card = await issuer.issueCard({ pin, limit: 1_000_000, balance: 1_000_000_000_000, currency: 'EUR' });
      cards.push({ payload: card.payloadText, pin });
    }
  }));
  return cards;
}
