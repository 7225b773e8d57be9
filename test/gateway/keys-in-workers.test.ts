/**
 * Issue 10, item 2: the crypto workers own the key material.
 *  - the gateway thread runs no AEAD and no DVD-1 (its core is counted through scans, right and wrong PINs,
 *    illegal scans and the page);
 *  - what crosses to a worker and back holds no issuer key, no basic key and no PAN (every piscina task of a
 *    real gateway is inspected on its way in and out);
 *  - a rotation reaches a running gateway's workers (2 of them) without a restart: by the file poll, by
 *    reloadKeys(); a bad file keeps the running ring; an inline ring refuses to reload;
 *  - a row whose wrapped basic key was altered at rest is declined at the PIN (CARD_INVALID), with no ledger record.
 */
import { Piscina } from 'piscina';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCore } from '../../core/index.ts';
import type { CryptoCore } from '../../core/types.ts';
import { startGateway } from '../../gateway/server.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { parsePayload, payloadToText } from '../../issuer/payload.ts';
import { MemoryStore } from '../../issuer/store/index.ts';
import { PIN, startGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.ts';

const WRONG_PIN = '0000'; // the fixture's cards take PIN (1234)
const MAIN_THREAD_FORBIDDEN = [
  'open', 'seal', 'dvd1Batch', 'dvd1OpenBatch', 'dvd1BatchPacked', 'dvd1OpenBatchPacked', 'dvd1CodeBatch', 'dvd1CodeBatchPacked', 'dvd1EnrolBatchPacked',
  'hkdf', 'hkdfExpand', 'hkdfExtract',
] as const;

/** A core that counts the calls this thread makes to it, by method. */
function countingCore(core: CryptoCore): { core: CryptoCore; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const counted = new Proxy(core, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(name), (calls.get(String(name)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { core: counted, calls };
}

/** Whether `needle` occurs anywhere in `haystack`. */
function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(Buffer.from(needle)) >= 0;
}

describe('the gateway thread holds no issuer key material', () => {
  let fx: GatewayFixture;
  let counting: ReturnType<typeof countingCore>;
  const crossings: { into: Uint8Array; back: Uint8Array }[] = [];
  const originalRun = Piscina.prototype.run;

  beforeAll(async () => {
    counting = countingCore(await loadCore());
    // every task a real pool sends, copied before it is transferred, and every answer
    Piscina.prototype.run = async function (this: Piscina, task: { packed: ArrayBuffer }, options?: unknown) {
      const into = new Uint8Array(task.packed.slice(0));
      const back = await (originalRun as (this: Piscina, t: unknown, o?: unknown) => Promise<ArrayBuffer>).call(this, task, options);
      crossings.push({ into, back: new Uint8Array(back.slice(0)) });
      return back;
    } as typeof Piscina.prototype.run;
    fx = await startGatewayFixture({ store: new MemoryStore(), threads: 2, gateway: { core: counting.core } });
  });
  afterAll(async () => {
    Piscina.prototype.run = originalRun;
    await fx?.close();
  });

  it('pays, declines and refuses with no AEAD or DVD-1 on the gateway thread, and nothing secret crosses to the workers', async () => {
    const cards = await Promise.all(Array.from({ length: 6 }, () => fx.issue()));
    counting.calls.clear();
    crossings.length = 0;
    const s = await fx.scanner();
    for (const [i, card] of cards.entries()) {
      const auth = await s.open(card.payloadText, 100 + i);
      expect(await s.pin(auth.session, i % 2 ? WRONG_PIN : PIN)).toMatchObject({ outcome: i % 2 ? 'declined' : 'approved' });
    }
    const tampered = cards[0].payload.slice();
    tampered[40] ^= 1;
    expect(await s.scan(payloadToText(tampered), 100)).toMatchObject({ code: 'CARD_INVALID' });

    for (const name of MAIN_THREAD_FORBIDDEN) expect(counting.calls.get(name) ?? 0, `core.${name} on the gateway thread`).toBe(0);
    expect(counting.calls.get('hmacSha256') ?? 0).toBeGreaterThan(0); // page tokens and receipts: keyed by fleet and cryptogram, not issuer keys

    expect(crossings.length).toBeGreaterThanOrEqual(cards.length * 2);
    const ring = fx.keyRing;
    const issuerKeys = ring.list().map((k) => ring.keyForOpening(k.id));
    for (const { into, back } of crossings) {
      for (const key of [...issuerKeys, ring.storageKey]) {
        expect(contains(into, key), 'an issuer or storage key sent to a worker').toBe(false);
        expect(contains(back, key), 'an issuer or storage key from a worker').toBe(false);
      }
      for (const card of cards) {
        const pan = new TextEncoder().encode(card.pan);
        expect(contains(into, pan), 'a PAN sent to a worker').toBe(false);
        expect(contains(back, pan), 'a PAN from a worker').toBe(false);
        const [opened] = fx.core.dvd1OpenBatch([{ kek: ring.keyForOpening(parsePayload(card.payload).keyId), ...parsePayload(card.payload).fields }]);
        expect(contains(into, opened.basicKey!), 'a clear basic key sent to a worker').toBe(false);
        expect(contains(back, opened.basicKey!), 'a clear basic key from a worker').toBe(false);
        opened.basicKey!.fill(0);
      }
    }
  });

  it('a row whose wrapped basic key was altered at rest is declined at the PIN, without a ledger record', async () => {
    const card = await fx.issue();
    const s = await fx.scanner();
    const auth = await s.open(card.payloadText, 100);
    const token = fx.keyRing.cardToken(card.pan);
    await fx.store.updateCard(token, (row) => {
      const wrapped = row.wrappedBasicKey.slice();
      wrapped[20] ^= 1;
      return { ...row, wrappedBasicKey: wrapped };
    });
    expect(await s.pin(auth.session, PIN)).toMatchObject({ outcome: 'declined', reason: 'CARD_INVALID', receipt: null });
    expect(await fx.store.getLedgerRecord(auth.session)).toBeNull();
  });
});

describe('key rotation in a running gateway', () => {
  it('a re-issued card under a rotated key pays after the file changes (poll) and after reloadKeys(), on both workers', async () => {
    const fx = await startGatewayFixture({ store: new MemoryStore(), threads: 2 });
    try {
      const old = await fx.issue();
      fx.keyRing.rotate();
      const fresh = await fx.issue(); // sealed under key 2, which the running workers have not seen
      const s = await fx.scanner();
      expect(await s.scan(fresh.payloadText, 100)).toMatchObject({ type: 'error', code: 'CARD_INVALID' });

      await fx.saveKeys();
      // many payments, so both workers take batches after the reload
      for (let i = 0; i < 8; i++) {
        const card = i % 2 ? old : fresh;
        const auth = await s.open(card.payloadText, 10 + i);
        expect(await s.pin(auth.session, PIN), `payment ${i}`).toMatchObject({ outcome: 'approved' });
      }
      // retiring the old key: its payloads turn illegal at once
      fx.keyRing.retire(1);
      await fx.saveKeys();
      for (let i = 0; i < 4; i++) expect(await s.scan(old.payloadText, 100)).toMatchObject({ type: 'error', code: 'CARD_INVALID' });
      expect((await s.open(fresh.payloadText, 100)).type).toBe('auth-required');
    } finally {
      await fx.close();
    }
  });

  it('picks up a changed file by itself; a bad file keeps the running ring; an inline ring does not reload', async () => {
    const store = new MemoryStore();
    const fx = await startGatewayFixture({ store, threads: 2, gateway: { keyRingPollMs: 50 } });
    try {
      fx.keyRing.rotate();
      const fresh = await fx.issue();
      const s = await fx.scanner();
      // fx.saveKeys would reload by hand: write the file only, as `scanpay keys rotate` does, and wait for the poll
      await fx.keyRing.save(fx.keyRingFile);
      const deadline = Date.now() + 5_000;
      let answer = await s.scan(fresh.payloadText, 100);
      while (answer.type !== 'auth-required' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        answer = await s.scan(fresh.payloadText, 100);
      }
      expect(answer.type).toBe('auth-required');

      await writeFile(fx.keyRingFile, '{"format":"not a key ring"}');
      await expect(fx.gateway.reloadKeys()).rejects.toMatchObject({ code: 'KEYRING_INVALID' });
      const auth = await s.open(fresh.payloadText, 100);
      expect(await s.pin(auth.session, PIN)).toMatchObject({ outcome: 'approved' });
    } finally {
      await fx.close();
    }

    const inline = await startGateway({ store, keyRing: IssuerKeyRing.generate(), fleetKey: new Uint8Array(32), port: 0, threads: 1 });
    try {
      await expect(inline.reloadKeys()).rejects.toMatchObject({ code: 'KEYRING_INVALID' });
    } finally {
      await inline.close();
    }
  });
});
