/**
 * 10,000 cards through the issuer at concurrency 32, on Redis and on the embedded store: every PAN unique
 * and Luhn-valid, every payload legal-shaped, and — on Redis — no basic key anywhere in the stored data in
 * any spelling (raw, hex, base64, base64url), checked by walking every key under the run's prefix.
 * The Redis run logs how long issuing took (cards/s), for the issue note.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCore } from '../../core/index.ts';
import type { CryptoCore } from '../../core/types.ts';
import { Issuer } from '../../issuer/issuer.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { PAYLOAD_SIZE, parsePayload } from '../../issuer/payload.ts';
import { MemoryStore } from '../../issuer/store/memory-store.ts';
import { openStore } from '../../issuer/store/index.ts';
import type { Store } from '../../issuer/store/types.ts';
import { deleteKeys, describeRedis, keysUnder, redisForTests, testKeyPrefix } from '../support/redis.ts';

const CARDS = 10_000;
const CONCURRENCY = 32;
const SAMPLE = 200;
/** An 8-digit BIN leaves 10^7 account numbers: 10,000 draws collide a few times, so the retry path runs too. */
const BIN = '49999999';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

let core: CryptoCore;
beforeAll(async () => {
  core = await loadCore();
});

interface Issued {
  pan: string;
  payload: Uint8Array;
}

/** Issues `count` cards with `concurrency` issues in flight; returns them and the wall time. */
async function issueMany(issuer: Issuer, count: number, concurrency: number): Promise<{ cards: Issued[]; ms: number }> {
  const cards: Issued[] = new Array(count);
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      const pin = String(i % 10_000).padStart(4, '0');
      const { pan, payload } = await issuer.issueCard({ pin, limit: 10_000 + i, currency: i % 2 ? 'EUR' : 'USD' });
      cards[i] = { pan, payload };
    }
  }));
  return { cards, ms: performance.now() - started };
}

function checkCards(cards: Issued[]): void {
  expect(cards).toHaveLength(CARDS);
  const pans = new Set(cards.map((c) => c.pan));
  expect(pans.size).toBe(CARDS);
  const badShape = cards.filter((c) => !/^[0-9]{16}$/.test(c.pan) || !c.pan.startsWith(BIN));
  expect(badShape.map((c) => c.pan.slice(-4))).toEqual([]);
  const notLuhn = cards.filter((c) => !core.luhn(c.pan));
  expect(notLuhn.length).toBe(0);
  expect(cards.every((c) => c.payload.length === PAYLOAD_SIZE)).toBe(true);
}

/** Every spelling of a secret a careless store might write. */
function spellings(key: Uint8Array): Buffer[] {
  const b = Buffer.from(key);
  return [
    b,
    Buffer.from(b.toString('hex')),
    Buffer.from(b.toString('hex').toUpperCase()),
    Buffer.from(b.toString('base64')),
    Buffer.from(b.toString('base64').replace(/=+$/, '')),
    Buffer.from(b.toString('base64url')),
  ];
}

/** Every key name, hash field and value under `prefix`, as one byte string (binary-safe reads). */
async function everythingUnder(url: string, prefix: string): Promise<{ keys: string[]; haystack: Buffer }> {
  const client = new Redis(url);
  try {
    const keys = await keysUnder(client, prefix);
    const parts: Buffer[] = [];
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      const types = (await client.pipeline(chunk.map((k) => ['type', k])).exec())!.map(([, t]) => t as string);
      const reads = client.pipeline();
      chunk.forEach((key, j) => {
        switch (types[j]) {
          case 'hash': reads.hgetallBuffer(key); break;
          case 'string': reads.getBuffer(key); break;
          case 'set': reads.smembersBuffer(key); break;
          case 'list': reads.lrangeBuffer(key, 0, -1); break;
          case 'zset': reads.zrangeBuffer(key, '0', '-1', 'WITHSCORES'); break;
          default: throw new Error(`unexpected Redis type ${types[j]} at ${key}`);
        }
      });
      const values = (await reads.exec())!;
      chunk.forEach((key, j) => {
        const [error, value] = values[j];
        if (error) throw error;
        parts.push(Buffer.from(key), Buffer.from('\n'));
        if (Buffer.isBuffer(value)) parts.push(value, Buffer.from('\n'));
        else if (Array.isArray(value)) for (const v of value) parts.push(Buffer.from(v as Buffer), Buffer.from('\n'));
        else for (const [field, v] of Object.entries(value as Record<string, Buffer>)) parts.push(Buffer.from(field), Buffer.from('='), v, Buffer.from('\n'));
      });
    }
    return { keys, haystack: Buffer.concat(parts) };
  } finally {
    await client.quit();
  }
}

describeRedis(redis, `issuing ${CARDS} cards into Redis`, (r) => {
  const prefix = testKeyPrefix();
  let store: Store;
  beforeAll(async () => {
    store = await openStore({ redisUrl: r.url, prefix });
  });
  afterAll(async () => {
    await store?.close();
    await deleteKeys(r.url, prefix);
  });

  it(`issues ${CARDS} unique, Luhn-valid cards and stores no PAN and no basic key in any form`, async () => {
    const keyRing = IssuerKeyRing.generate();
    const issuer = new Issuer({ core, store, keyRing, bin: BIN });
    const { cards, ms } = await issueMany(issuer, CARDS, CONCURRENCY);
    console.log(`issued ${CARDS} cards into Redis (concurrency ${CONCURRENCY}) in ${ms.toFixed(0)} ms: ${Math.round(CARDS / (ms / 1000))} cards/s`);
    checkCards(cards);
    expect(await store.countCards()).toBe(CARDS);

    // the basic keys of a sample, recovered from the payloads with the issuer key (the issuer never exposes them)
    const sample = Array.from({ length: SAMPLE }, (_, i) => cards[Math.floor((i * CARDS) / SAMPLE)]);
    const opened = core.dvd1OpenBatch(sample.map((c) => {
      const parsed = parsePayload(c.payload);
      return { kek: keyRing.keyForOpening(parsed.keyId), ...parsed.fields };
    }));
    expect(opened.every((o) => o.ok)).toBe(true);
    opened.forEach((o, i) => expect(new TextDecoder().decode(o.pan!)).toBe(sample[i].pan));
    const basicKeys = opened.map((o) => o.basicKey!);
    expect(new Set(basicKeys.map((k) => Buffer.from(k).toString('hex'))).size).toBe(SAMPLE);

    const { keys, haystack } = await everythingUnder(r.url, prefix);
    expect(keys.filter((k) => k.includes(':card:'))).toHaveLength(CARDS);
    expect(keys.every((k) => k.startsWith(prefix))).toBe(true);
    // positive control: the walk sees the rows (their tokens and wrapped keys are there)
    const row = (await store.getCard(keyRing.cardToken(sample[0].pan)))!;
    expect(haystack.includes(Buffer.from(row.token))).toBe(true);
    expect(haystack.includes(Buffer.from(Buffer.from(row.wrappedBasicKey).toString('base64')))).toBe(true);

    const leaks: string[] = [];
    // no PAN at rest (PCI DSS 3.5.1): not one of the 10,000, in any spelling
    const haystackText = haystack.toString('latin1');
    for (const card of cards) {
      if (haystackText.includes(card.pan) || haystackText.includes(card.pan.replace(/(\d{4})(?!$)/g, '$1 '))) leaks.push(`PAN …${card.pan.slice(-4)}`);
    }
    basicKeys.forEach((key, i) => {
      for (const spelling of spellings(key)) if (haystack.includes(spelling)) leaks.push(`card …${sample[i].pan.slice(-4)}`);
    });
    // nor the issuer key or storage key
    for (const secret of [keyRing.storageKey, keyRing.active().key]) {
      for (const spelling of spellings(secret)) if (haystack.includes(spelling)) leaks.push('issuer key ring');
    }
    expect(leaks).toEqual([]);
    for (const key of basicKeys) key.fill(0);
  }, 180_000);
});

describe(`issuing ${CARDS} cards into the embedded store`, () => {
  it('gives unique, Luhn-valid PANs', async () => {
    const store = new MemoryStore();
    const issuer = new Issuer({ core, store, keyRing: IssuerKeyRing.generate(), bin: BIN });
    const { cards, ms } = await issueMany(issuer, CARDS, CONCURRENCY);
    console.log(`issued ${CARDS} cards into the embedded store in ${ms.toFixed(0)} ms: ${Math.round(CARDS / (ms / 1000))} cards/s`);
    checkCards(cards);
    expect(await store.countCards()).toBe(CARDS);
  }, 120_000);
});
