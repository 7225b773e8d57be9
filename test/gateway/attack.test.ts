/**
 * The security invariants tried as an attacker would (docs/security.md): one provisioned scanner's worth of
 * credentials, a photo of a card's QR, and as much concurrency as the machine gives.
 *   - 200 wrong PINs released together over 8 scanner connections and the page, on two gateways (on Redis:
 *     two processes) → at most pinLockAt evaluated, card locked, and a right PIN after the lock answered
 *     exactly as a wrong one;
 *   - a reconnect flood stays within the device's rate; the page's limits hold;
 *   - a used device token is refused by a second gateway and after a restart; replaying it thousands of times
 *     costs the replaying address, never the device it names (two processes);
 *   - the page without its token costs the store nothing, answers every session state alike, and cannot burn
 *     the holder's budget (two processes);
 *   - after 1,000 payments no PAN (in any spelling) and no basic key is anywhere in Redis;
 *   - cross-site PIN posts are refused; a paid page shows its outcome; TLS serves the page with HSTS;
 *   - the scan does the same crypto for unknown, retired and known key ids.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadCore } from '../../core/index.ts';
import { CryptoPool } from '../../gateway/pool/crypto-pool.ts';
import type { IssuedCard } from '../../issuer/issuer.ts';
import { parsePayload, payloadFromText, payloadToText } from '../../issuer/payload.ts';
import { MemoryStore, RedisStore, type Store } from '../../issuer/store/index.ts';
import { SUBPROTOCOL, type GatewayFrame, type PaymentResultFrame } from '../../protocol/messages.ts';
import {
  MERCHANT, PIN, RawScanner, WRONG_PIN, metricValue, postPin, startGatewayFixture, uniqueDevice, upgradeOutcome,
  type GatewayFixture,
} from '../support/gateway-fixture.ts';
import { spawnGatewayChild, type GatewayProcess } from '../support/gateway-process.ts';
import { deleteKeys, describeRedis, keysUnder, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { byteSpellings, panLeaks } from '../support/leaks.ts';
import { GATEWAY_DEFAULTS } from '../../gateway/defaults.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

const FAST = { pinPaceMs: 0, framesPerSecond: 100_000, burst: 100_000 };

/** Where the second gateway is: a child process (Redis) or a second instance in this process (embedded store). */
interface Peer { url: string; scannerUrl: string; opsUrl: string; stop(): Promise<void> }

async function peerOf(fx: GatewayFixture, store: Store, redisUrl: string | null, prefix: string | null): Promise<Peer> {
  if (redisUrl && prefix) return spawnGatewayChild({ redisUrl, prefix, keyRing: fx.keyRing, fleetKey: fx.fleetKey, options: FAST });
  const second = await startGatewayFixture({ store, keyRing: fx.keyRing, fleetKey: fx.fleetKey, gateway: FAST });
  return { url: second.gateway.url, scannerUrl: second.gateway.scannerUrl, opsUrl: second.gateway.opsUrl, stop: () => second.close() };
}

const evaluated = (metrics: string) =>
  ['correct', 'wrong', 'invalid'].reduce((n, result) => n + metricValue(metrics, 'scanpay_pin_attempts_total', { result }), 0);

/** What a PIN answer says, without what differs per request (id, session). */
function answerShape(frame: GatewayFrame | { status: number; page: string }): unknown {
  if ('status' in frame) return { status: frame.status, reason: /data-code="([A-Z_]+)"/.exec(frame.page)?.[1], receipt: frame.page.includes('Receipt') };
  if (frame.type !== 'payment-result') return frame;
  const { outcome, reason, attemptsLeft, receipt } = frame;
  return { outcome, reason, attemptsLeft, receipt };
}

function burstSuite(kind: 'memory' | 'redis', openStore: () => Promise<{ store: Store; url: string | null; prefix: string | null; dispose(): Promise<void> }>): void {
  let fx: GatewayFixture;
  let peer: Peer;
  let ts: Awaited<ReturnType<typeof openStore>>;
  beforeAll(async () => {
    ts = await openStore();
    fx = await startGatewayFixture({ store: ts.store, threads: 1, gateway: FAST });
    peer = await peerOf(fx, ts.store, ts.url, ts.prefix);
  }, 60_000);
  afterAll(async () => {
    await peer?.stop();
    await fx?.close();
    await ts?.dispose();
  });

  it(`200 wrong PINs at once over 8 connections and the page of two gateways${kind === 'redis' ? ' (two processes)' : ''}: ≤ 3 evaluated, locked, and the right PIN then reads as wrong`, async () => {
    const card = await fx.issue();
    const device = [uniqueDevice('burst'), uniqueDevice('burst')];
    // 4 connections: each device on both gateways
    const scanners = [
      await fx.scanner(device[0]),
      await RawScanner.connect(peer.scannerUrl, device[0], fx.token(device[0])),
      await fx.scanner(device[1]),
      await RawScanner.connect(peer.scannerUrl, device[1], fx.token(device[1])),
    ];
    // the PINs go out over 4 connections per device (2 per gateway), ≤ 32 at once on each (the per-connection bound, docs/protocol.md §6)
    const pinners = [
      [scanners[0], scanners[1], await fx.scanner(device[0]), await RawScanner.connect(peer.scannerUrl, device[0], fx.token(device[0]))],
      [scanners[2], scanners[3], await fx.scanner(device[1]), await RawScanner.connect(peer.scannerUrl, device[1], fx.token(device[1]))],
    ];
    try {
      const sessions = [];
      for (let i = 0; i < 201; i++) sessions.push({ scanner: scanners[i % 4], auth: await scanners[i % 4].open(card.payloadText, 100) });
      const [rightPinSession] = sessions.splice(200, 1);
      const metricsBefore = evaluated(await fx.metrics()) + evaluated(await (await fetch(`${peer.opsUrl}/metrics`)).text());

      // released together: 150 over sockets, 50 through the page (half to each gateway)
      const answers = await Promise.all(sessions.map(async ({ auth }, i) => {
        if (i % 4 !== 3) return pinners[i % 4 < 2 ? 0 : 1][Math.floor(i / 4) % 4].pin(auth.session, WRONG_PIN);
        const page = new URL(auth.url);
        const base = i % 8 === 3 ? fx.gateway.url : peer.url;
        const res = await postPin(`${base}${page.pathname}${page.search}`, WRONG_PIN);
        return { status: res.status, page: await res.text() };
      }));

      const view = await fx.issuer.viewCard(card.pan);
      expect(view).toMatchObject({ status: 'locked', pinFailures: 3, balance: 1_000_000 });
      const count = evaluated(await fx.metrics()) + evaluated(await (await fetch(`${peer.opsUrl}/metrics`)).text()) - metricsBefore;
      console.log(`[${kind}] 200 wrong PINs released together: ${count} evaluated (pinFailures in the store: ${view.pinFailures})`);
      expect(count).toBeLessThanOrEqual(3);

      // each answer is a wrong PIN (at most 2, before the lock), the lock, or "retry": while as many attempts are in
      // flight as the card has tries left, the others are told to send again (RATE_LIMITED; the page: 429)
      const shapes = answers.map(answerShape);
      const lockedSocket = { outcome: 'declined', reason: 'CARD_LOCKED', attemptsLeft: 0, receipt: null };
      const retry = (s: unknown) => JSON.stringify(s).includes('"RATE_LIMITED"') || (s as { status?: number }).status === 429;
      const wrongLeft = shapes.filter((s) => JSON.stringify(s).includes('PIN_WRONG'));
      expect(wrongLeft.length).toBeLessThanOrEqual(2);
      const told = shapes.map((s) => (retry(s) ? 'retry' : JSON.stringify(s).includes('PIN_WRONG') ? 'wrong' : JSON.stringify(s) === JSON.stringify(lockedSocket) || (s as { reason?: string }).reason === 'CARD_LOCKED' ? 'locked' : JSON.stringify(s)));
      expect(told.filter((t) => t !== 'retry' && t !== 'wrong' && t !== 'locked')).toEqual([]);
      // sent again, every one that was told to retry reads as locked, and nothing more is evaluated
      // (over the same 4 connections per device as the burst, so no connection has more than 32 outstanding)
      const retried = await Promise.all(sessions.map(async ({ auth }, i) => (told[i] === 'retry' ? answerShape(await pinners[i % 4 < 2 ? 0 : 1][Math.floor(i / 4) % 4].pin(auth.session, WRONG_PIN)) : lockedSocket)));
      expect(retried.filter((s) => JSON.stringify(s) !== JSON.stringify(lockedSocket))).toEqual([]);
      expect(evaluated(await fx.metrics()) + evaluated(await (await fetch(`${peer.opsUrl}/metrics`)).text()) - metricsBefore).toBe(count);

      // the right PIN, after the lock: the same frame as a wrong one, no receipt, no ledger record, the same replay
      const right = await rightPinSession.scanner.pin(rightPinSession.auth.session, PIN) as PaymentResultFrame;
      expect(answerShape(right)).toEqual(lockedSocket);
      expect(await fx.store.getLedgerRecord(rightPinSession.auth.session)).toBeNull();
      const again = await rightPinSession.scanner.pin(rightPinSession.auth.session, PIN);
      // a socket session decided locked: by its retry, or (when every attempt past the lock was quick enough to see it) at once
      const decided = sessions[told.findIndex((t, i) => (t === 'retry' || t === 'locked') && i % 4 !== 3)];
      const wrongAgain = await decided.scanner.pin(decided.auth.session, WRONG_PIN);
      expect(answerShape(again)).toEqual(answerShape(wrongAgain));
      expect({ ...again, id: null, session: null }).toEqual({ ...wrongAgain, id: null, session: null });
      expect(await fx.issuer.viewCard(card.pan)).toMatchObject({ status: 'locked', pinFailures: 3, balance: 1_000_000 });
    } finally {
      await Promise.all([...scanners, pinners[0][2], pinners[0][3], pinners[1][2], pinners[1][3]].map((s) => s.close()));
    }
  }, 120_000);
}

describe('PIN burst on the embedded store (two gateways in this process)', () => {
  burstSuite('memory', async () => {
    const store = new MemoryStore();
    return { store, url: null, prefix: null, dispose: async () => {} };
  });
});

describeRedis(redis, 'PIN burst on Redis (two gateway processes)', (server) => {
  burstSuite('redis', async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connect(server.url, { prefix });
    return { store, url: server.url, prefix, dispose: async () => { await store.close(); await deleteKeys(server.url, prefix); } };
  });
});

describe('rate limits that hold', () => {
  it('a reconnect flood (a new connection per frame) stays within the device\'s rate', async () => {
    const store = new MemoryStore();
    const perSecond = 20;
    const burst = 40;
    const fx = await startGatewayFixture({ store, gateway: { framesPerSecond: perSecond, burst } });
    const second = await startGatewayFixture({ store, keyRing: fx.keyRing, fleetKey: fx.fleetKey, gateway: { framesPerSecond: perSecond, burst } });
    try {
      const device = uniqueDevice('flood');
      const started = Date.now();
      let served = 0;
      let refusedUpgrades = 0;
      let limitedFrames = 0;
      const loop = async (i: number) => {
        while (Date.now() - started < 2_000) {
          const url = (i % 2 ? second : fx).gateway.scannerUrl;
          const ws = await RawScanner.connect(url, device, fx.token(device)).catch(() => null);
          if (!ws) {
            refusedUpgrades++;
            continue;
          }
          const answer = await ws.scan('not a payload', 100);
          if (answer.type === 'error' && answer.code === 'RATE_LIMITED') limitedFrames++;
          else served++;
          await ws.close();
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, i) => loop(i)));
      const seconds = (Date.now() - started) / 1000;
      const allowed = burst + perSecond * seconds;
      // every upgrade and every frame takes one unit of the same budget
      console.log(`reconnect flood: ${served} frames served in ${seconds.toFixed(2)} s (${(served / seconds).toFixed(1)}/s; documented ${perSecond}/s, burst ${burst}); ${refusedUpgrades} upgrades refused, ${limitedFrames} frames limited`);
      expect(served).toBeLessThanOrEqual(allowed / 2 + 2); // each served frame also cost its connection a unit
      expect(refusedUpgrades).toBeGreaterThan(0);
    } finally {
      await second.close();
      await fx.close();
    }
  }, 30_000);

  it('the page is limited: without its token per address in memory; with it, views per address in memory, PIN posts per address and per session in the store', async () => {
    const store = new MemoryStore();
    const slow = (burst: number) => ({ perSecond: 0.01, burst }); // no refill within the test
    const fx = await startGatewayFixture({
      store, gateway: { pageLimits: { perAddress: slow(30), perSession: slow(3), refusedPerAddress: slow(5), viewsPerAddress: slow(4) } },
    });
    try {
      const card = await fx.issue();
      const s = await fx.scanner();
      const one = await s.open(card.payloadText, 100);
      const count = (statuses: number[], status: number) => statuses.filter((x) => x === status).length;
      // without the token: 5 answered 404, then 429, all from memory; the session's budgets are untouched
      const refused = await Promise.all(Array.from({ length: 20 }, () => postPin(one.url, WRONG_PIN, {}, '0'.repeat(64)).then((r) => r.status)));
      expect([count(refused, 404), count(refused, 429)]).toEqual([5, 15]);
      // with it, page views: 4, then 429
      const views = await Promise.all(Array.from({ length: 6 }, () => fetch(one.url).then((r) => r.status)));
      expect([count(views, 200), count(views, 429)]).toEqual([4, 2]);
      // with it, PIN posts: the session takes 3 (one attempt, then its outcome again), the rest 429
      const posted = await Promise.all(Array.from({ length: 20 }, () => postPin(one.url, WRONG_PIN).then((r) => r.status)));
      expect([count(posted, 200), count(posted, 429)]).toEqual([3, 17]);
      expect((await fx.issuer.viewCard(card.pan)).pinFailures).toBe(1);
      // the address has spent 20 of its 30: of 12 posts for other sessions (malformed PINs: the form again, 400), 2 are refused
      const others = [];
      for (let i = 0; i < 12; i++) others.push(await s.open(card.payloadText, 100));
      const perAddress = await Promise.all(others.map((o) => postPin(o.url, 'x').then((r) => r.status)));
      expect([count(perAddress, 400), count(perAddress, 429)]).toEqual([10, 2]);
      expect((await fx.issuer.viewCard(card.pan)).pinFailures).toBe(1);
    } finally {
      await fx.close();
    }
  });

  it('PIN attempts on one card are paced: a second within the pace is RATE_LIMITED and its session stays open', async () => {
    const fx = await startGatewayFixture({ store: new MemoryStore(), gateway: { pinPaceMs: 60_000 } });
    try {
      const card = await fx.issue();
      const s = await fx.scanner();
      const [a, b] = [await s.open(card.payloadText, 100), await s.open(card.payloadText, 100)];
      expect(await s.pin(a.session, WRONG_PIN)).toMatchObject({ reason: 'PIN_WRONG' });
      expect(await s.pin(b.session, PIN)).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
      expect((await fx.store.getSession(b.session))!.state).toBe('open');
      expect((await fx.issuer.viewCard(card.pan)).pinFailures).toBe(1);
    } finally {
      await fx.close();
    }
  });
});

describeRedis(redis, 'one-time device tokens across gateways and restarts', (server) => {
  it('a used token is refused by a second gateway process and by the first after a restart', async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connect(server.url, { prefix });
    let fx = await startGatewayFixture({ store });
    const peer = await spawnGatewayChild({ redisUrl: server.url, prefix, keyRing: fx.keyRing, fleetKey: fx.fleetKey });
    try {
      const device = uniqueDevice();
      const token = fx.token(device);
      expect(await upgradeOutcome(fx.gateway.scannerUrl, { authorization: `Bearer ${token}` })).toBe('open');
      expect(await upgradeOutcome(peer.scannerUrl, { authorization: `Bearer ${token}` })).toBe(401);
      const { keyRing, fleetKey } = fx;
      await fx.close();
      fx = await startGatewayFixture({ store, keyRing, fleetKey });
      expect(await upgradeOutcome(fx.gateway.scannerUrl, { authorization: `Bearer ${token}` })).toBe(401);
      expect(await upgradeOutcome(fx.gateway.scannerUrl, { authorization: `Bearer ${fx.token(device)}` })).toBe('open');
      // a wrong subprotocol is refused before the token is spent: the same token then opens
      const fresh = fx.token(device);
      for (const protocol of ['scanpay.v2', 'SCANPAY.V1']) {
        expect(await new Promise((resolve) => {
          const ws = new WebSocket(fx.gateway.scannerUrl, protocol, { headers: { authorization: `Bearer ${fresh}` } });
          ws.on('unexpected-response', (_req, res) => (res.resume(), resolve(res.statusCode)));
          ws.on('error', () => resolve('error'));
        })).toBe(400);
      }
      expect(await upgradeOutcome(fx.gateway.scannerUrl, { authorization: `Bearer ${fresh}` })).toBe('open');
      // a revoked device opens nothing, on either gateway
      await store.revokeDevice(device);
      expect(await upgradeOutcome(fx.gateway.scannerUrl, { authorization: `Bearer ${fx.token(device)}` })).toBe(401);
      expect(await upgradeOutcome(peer.scannerUrl, { authorization: `bearer ${fx.token(device)}` })).toBe(401);
    } finally {
      await peer.stop();
      await fx.close();
      await store.close();
      await deleteKeys(server.url, prefix);
    }
  }, 60_000);
});

/** Another caller, as the gateways see it: the attacker's requests come from this loopback address. */
const ATTACKER = '127.0.0.2';

describeRedis(redis, 'a replayed token costs its caller, never the device it names (two gateway processes)', (server) => {
  it('4,000 replays of a spent token, 64 at a time to two gateways, while the device reconnects and pays: the device never sees 429 or RATE_LIMITED', async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connect(server.url, { prefix });
    const limits = { pinPaceMs: 0, framesPerSecond: 20, burst: 40 }; // the device's default budget
    const fx = await startGatewayFixture({ store, gateway: limits });
    const peer = await spawnGatewayChild({ redisUrl: server.url, prefix, keyRing: fx.keyRing, fleetKey: fx.fleetKey, options: limits });
    try {
      const card = await fx.issue();
      const device = uniqueDevice('victim');
      const spent = fx.token(device);
      await (await RawScanner.connect(fx.gateway.scannerUrl, device, spent)).close(); // the token is used: anyone who saw it has a spent token
      const gateways = [fx.gateway.scannerUrl, peer.scannerUrl];

      const replayAnswers = new Map<string, number>();
      let replaysDone = false;
      const started = Date.now();
      const replays = (async () => {
        let next = 0;
        await Promise.all(Array.from({ length: 64 }, async () => {
          for (let i = next++; i < 4_000; i = next++) {
            const answer = String(await upgradeOutcome(gateways[i % 2], { authorization: `Bearer ${spent}` }, ATTACKER));
            replayAnswers.set(answer, (replayAnswers.get(answer) ?? 0) + 1);
          }
        }));
        replaysDone = true;
      })();

      // meanwhile the device: a fresh token per connection, alternately on each gateway, a payment on each
      const refusals: string[] = [];
      let payments = 0;
      let rounds = 0;
      while (!replaysDone || rounds < 3) {
        const url = gateways[rounds++ % 2];
        let scanner: RawScanner;
        try {
          scanner = await RawScanner.connect(url, device, fx.token(device));
        } catch (e) {
          refusals.push(`round ${rounds}: ${(e as Error).message}`);
          await sleep(200);
          continue;
        }
        const auth = await scanner.scan(card.payloadText, 100);
        if (auth.type === 'auth-required') {
          const result = await scanner.pin(auth.session, PIN);
          if (result.type === 'payment-result' && result.outcome === 'approved') payments++;
          else refusals.push(`round ${rounds}: pin ${JSON.stringify(result)}`);
        } else refusals.push(`round ${rounds}: scan ${JSON.stringify(auth)}`);
        await scanner.close();
        await sleep(150); // 3 units a round (upgrade, scan, PIN): well inside 20/s
      }
      await replays;
      const seconds = (Date.now() - started) / 1000;
      const answers = Object.fromEntries(replayAnswers);
      console.log(`4,000 replays in ${seconds.toFixed(1)} s from ${ATTACKER}: ${JSON.stringify(answers)}; the device meanwhile: ${rounds} connections, ${payments} payments, refused ${refusals.length}`);

      expect(refusals).toEqual([]);
      expect(payments).toBe(rounds);
      expect(rounds).toBeGreaterThanOrEqual(3);
      expect(answers.open).toBeUndefined();
      expect((answers['401'] ?? 0) + (answers['429'] ?? 0)).toBe(4_000);
      // past its failure budget (per gateway process, in memory) the attacker is answered 429 without a store round trip
      expect(answers['429']).toBeGreaterThan(0);
      expect(answers['401']).toBeLessThanOrEqual(2 * (GATEWAY_DEFAULTS.failedUpgrades.burst + GATEWAY_DEFAULTS.failedUpgrades.perSecond * seconds));
    } finally {
      await peer.stop();
      await fx.close();
      await store.close();
      await deleteKeys(server.url, prefix);
    }
  }, 120_000);
});

interface PageAnswer { status: number; headers: Record<string, string>; body: string }

/** A page request from a given local address (another caller, as the gateway sees it). */
function pageRequest(url: string, opts: { method?: 'GET' | 'POST'; form?: Record<string, string>; from?: string } = {}): Promise<PageAnswer> {
  const target = new URL(url);
  const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', origin: target.origin };
  return new Promise((resolve, reject) => {
    const req = httpRequest(target, { method: opts.method ?? 'GET', headers, localAddress: opts.from ?? '127.0.0.1', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers as Record<string, string>, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `count` requests made by `make(i)`, `parallel` at a time; the answers by status. */
async function flood(count: number, parallel: number, make: (i: number) => Promise<PageAnswer>): Promise<Record<string, number>> {
  const statuses: Record<string, number> = {};
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    for (let i = next++; i < count; i = next++) {
      const { status } = await make(i);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  }));
  return statuses;
}

const randomHex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The unauthenticated requests an attacker can make for a session id: no token, a random one, another session's. */
function withoutToken(base: string, id: string, otherToken: string, i: number, from = ATTACKER): Promise<PageAnswer> {
  const url = `${base}/auth/${id}`;
  switch (i % 6) {
    case 0: return pageRequest(url, { from });
    case 1: return pageRequest(`${url}?t=${randomHex(32)}`, { from });
    case 2: return pageRequest(`${url}?t=${otherToken}`, { from });
    case 3: return pageRequest(url, { method: 'POST', form: { pin: PIN }, from });
    case 4: return pageRequest(url, { method: 'POST', form: { t: randomHex(32), pin: PIN }, from });
    default: return pageRequest(url, { method: 'POST', form: { t: otherToken, pin: WRONG_PIN }, from });
  }
}

describe('the page without its token', () => {
  it('2,400 GETs and POSTs with random, malformed and real session ids but no valid token, to two gateways, make no store call', async () => {
    const store = new MemoryStore();
    let counting = false;
    const calls = new Map<string, number>();
    // every method call on the store, by name, while `counting`
    const counted = new Proxy(store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (counting) calls.set(String(name), (calls.get(String(name)) ?? 0) + 1);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const fx = await startGatewayFixture({ store: counted });
    const second = await startGatewayFixture({ store: counted, keyRing: fx.keyRing, fleetKey: fx.fleetKey });
    try {
      const card = await fx.issue();
      const s = await fx.scanner();
      const open = await s.open(card.payloadText, 100);
      const paid = await s.open(card.payloadText, 100);
      expect(await s.pin(paid.session, PIN)).toMatchObject({ outcome: 'approved' });
      const otherToken = new URL((await s.open(card.payloadText, 100)).url).searchParams.get('t')!; // a session not attacked
      const ids = [open.session, paid.session, randomHex(16), 'not-a-session', `${open.session}0`];
      counting = true;
      const statuses = await flood(2_400, 48, (i) => withoutToken([fx.gateway.url, second.gateway.url][i % 2], ids[Math.floor(i / 2) % ids.length], otherToken, Math.floor(i / 10)));
      counting = false;
      console.log(`2,400 page requests without a valid token: ${JSON.stringify(statuses)}; store calls: ${JSON.stringify(Object.fromEntries(calls))}`);
      expect(Object.fromEntries(calls)).toEqual({});
      expect(Object.keys(statuses).sort()).toEqual(['404', '429']); // one answer for all; past the address's budget, 429 from memory
      // the session is untouched: its holder's page and PIN still work
      expect((await pageRequest(open.url)).status).toBe(200);
      expect((await postPin(open.url, PIN)).status).toBe(200);
    } finally {
      await second.close();
      await fx.close();
    }
  }, 60_000);

  it('without a valid token, open, paid, expired, paid-and-expired, unknown and malformed sessions get the same answer, byte for byte', async () => {
    const fx = await startGatewayFixture({
      store: new MemoryStore(),
      gateway: { sessionTtlMs: 1_500, pageLimits: { ...GATEWAY_DEFAULTS.pageLimits, refusedPerAddress: { perSecond: 1_000, burst: 1_000 } } },
    });
    try {
      const card = await fx.issue();
      const s = await fx.scanner();
      const expiredUnused = await s.open(card.payloadText, 100);
      const expiredPaid = await s.open(card.payloadText, 100);
      expect(await s.pin(expiredPaid.session, PIN)).toMatchObject({ outcome: 'approved' });
      await sleep(1_700);
      const open = await s.open(card.payloadText, 100);
      const paid = await s.open(card.payloadText, 100);
      expect(await s.pin(paid.session, PIN)).toMatchObject({ outcome: 'approved' });
      const otherToken = new URL((await s.open(card.payloadText, 100)).url).searchParams.get('t')!;
      const sessions = { open: open.session, paid: paid.session, expiredUnused: expiredUnused.session, expiredPaid: expiredPaid.session, unknown: randomHex(16), malformed: 'x'.repeat(32) };
      const requests = (id: string): [string, () => Promise<PageAnswer>][] => [
        ['GET, no token', () => pageRequest(`${fx.gateway.url}/auth/${id}`)],
        ['GET, a random token', () => pageRequest(`${fx.gateway.url}/auth/${id}?t=${randomHex(32)}`)],
        ['GET, another session\'s token', () => pageRequest(`${fx.gateway.url}/auth/${id}?t=${otherToken}`)],
        ['POST, no token', () => pageRequest(`${fx.gateway.url}/auth/${id}`, { method: 'POST', form: { pin: PIN } })],
        ['POST, a random token', () => pageRequest(`${fx.gateway.url}/auth/${id}`, { method: 'POST', form: { t: randomHex(32), pin: WRONG_PIN } })],
      ];
      const shape = (a: PageAnswer) => ({ status: a.status, headers: { ...a.headers, date: undefined }, body: a.body });
      const reference = shape(await pageRequest(`${fx.gateway.url}/auth/${sessions.unknown}`));
      expect(reference.status).toBe(404);
      for (const [name, id] of Object.entries(sessions)) {
        for (const [what, send] of requests(id)) expect(shape(await send()), `${name}: ${what}`).toEqual(reference);
      }
      // none of it touched the open session
      expect((await fx.store.getSession(open.session))!.state).toBe('open');
    } finally {
      await fx.close();
    }
  });
});

describeRedis(redis, 'the holder pays on the page while an attacker without the token floods it (two gateway processes)', (server) => {
  it('2,000 token-less GETs and POSTs for the session, from the holder\'s address and another, to both gateways: the holder\'s POST is approved', async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connect(server.url, { prefix });
    const fx = await startGatewayFixture({ store });
    const peer = await spawnGatewayChild({ redisUrl: server.url, prefix, keyRing: fx.keyRing, fleetKey: fx.fleetKey, options: { pinPaceMs: 0 } });
    try {
      const card = await fx.issue();
      const device = uniqueDevice();
      const s = await RawScanner.connect(peer.scannerUrl, device, fx.token(device)); // where the holder's page result is pushed
      const auth = await s.open(card.payloadText, 100);
      const other = await s.open(card.payloadText, 100);
      const otherToken = new URL(other.url).searchParams.get('t')!;
      const gateways = [fx.gateway.url, peer.url];
      let sent = 0;
      const attack = flood(2_000, 32, (i) => {
        sent++;
        return withoutToken(gateways[(i >> 1) % 2], auth.session, otherToken, Math.floor(i / 4), i % 2 ? ATTACKER : '127.0.0.1');
      });
      while (sent < 500) await sleep(5);
      const page = new URL(auth.url);
      const holder = await postPin(`${peer.url}${page.pathname}${page.search}`, PIN);
      const statuses = await attack;
      console.log(`the holder's POST during 2,000 token-less requests for its session: ${holder.status}; the attacker got ${JSON.stringify(statuses)}`);
      expect(holder.status).toBe(200);
      expect(await holder.text()).toContain('Payment approved');
      expect(await s.next((f) => f.type === 'payment-result' && f.id === null)).toMatchObject({ session: auth.session, outcome: 'approved' });
      expect(Object.keys(statuses).every((status) => status === '404' || status === '429')).toBe(true);
      await s.close();
    } finally {
      await peer.stop();
      await fx.close();
      await store.close();
      await deleteKeys(server.url, prefix);
    }
  }, 60_000);
});

describeRedis(redis, 'no PAN and no basic key at rest', (server) => {
  it('after 1,000 payments, no key name or value in Redis holds a PAN (any spelling, any run past the last 4) or a basic key', async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connect(server.url, { prefix });
    const fx = await startGatewayFixture({ store, threads: 2, gateway: FAST });
    const raw = new Redis(server.url);
    try {
      const cards: IssuedCard[] = [];
      for (let i = 0; i < 10; i++) cards.push(await fx.issue());
      const scanners = await Promise.all(Array.from({ length: 4 }, () => fx.scanner()));
      let approved = 0;
      await Promise.all(scanners.map(async (s, k) => {
        for (let i = k; i < 1_000; i += 4) {
          const card = cards[i % cards.length];
          const auth = await s.open(card.payloadText, 100 + i, { merchant: MERCHANT });
          const pin = i % 50 === 7 ? WRONG_PIN : PIN; // a few declines too
          const answer = await s.pin(auth.session, pin);
          if (answer.type === 'payment-result' && answer.outcome === 'approved') approved++;
        }
      }));
      expect(approved).toBeGreaterThan(900);

      const keys = await keysUnder(raw, prefix);
      const texts: string[] = [...keys];
      for (const key of keys) {
        const type = await raw.type(key);
        if (type === 'hash') texts.push(...Object.entries(await raw.hgetall(key)).flat());
        else if (type === 'string') texts.push((await raw.get(key)) ?? '');
      }
      const haystack = texts.join('\n');
      const pans = cards.map((c) => c.pan);
      // positive control: the walk sees the card tokens and the last 4 digits
      expect(haystack).toContain(fx.keyRing.cardToken(pans[0]));
      expect(haystack).toContain(pans[0].slice(-4));
      const found = panLeaks(haystack, pans);
      const core = await loadCore();
      const basicKeys = cards.map((c) => {
        const parsed = parsePayload(payloadFromText(c.payloadText));
        const [opened] = core.dvd1OpenBatch([{ kek: fx.keyRing.keyForOpening(parsed.keyId), ...parsed.fields }]);
        return opened.basicKey!;
      });
      const secrets = [...basicKeys, fx.keyRing.storageKey, fx.keyRing.active().key, fx.fleetKey];
      const secretHits = secrets.filter((k) => byteSpellings(k).some((spelling) => haystack.includes(spelling)));
      console.log(`Redis scan after 1,000 payments (${approved} approved): ${keys.length} keys, ${haystack.length} characters; PAN findings: ${found.length}; key findings: ${secretHits.length}`);
      expect(found).toEqual([]);
      expect(secretHits).toEqual([]);
    } finally {
      await raw.quit();
      await fx.close();
      await store.close();
      await deleteKeys(server.url, prefix);
    }
  }, 120_000);
});

describe('the PIN page', () => {
  let fx: GatewayFixture;
  beforeAll(async () => {
    fx = await startGatewayFixture({ store: new MemoryStore() });
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('refuses cross-site posts and media types that only start like a form; the session stays open', async () => {
    const card = await fx.issue();
    const s = await fx.scanner();
    const auth = await s.open(card.payloadText, 100);
    const refused: [string, Record<string, string>, number][] = [
      ['a foreign Origin', { origin: 'https://evil.example' }, 403],
      ['Origin null, cross-site', { origin: 'null', 'sec-fetch-site': 'cross-site' }, 403],
      ['same Origin but cross-site fetch', { 'sec-fetch-site': 'cross-site' }, 403],
      ['no Origin, no Sec-Fetch-Site', { origin: '' }, 403],
      ['a prefix-matched media type', { 'content-type': 'application/x-www-form-urlencodedEVIL' }, 415],
      ['another charset', { 'content-type': 'application/x-www-form-urlencoded; charset=latin1' }, 415],
    ];
    for (const [what, headers, status] of refused) expect((await postPin(auth.url, PIN, headers)).status, what).toBe(status);
    expect((await fx.store.getSession(auth.session))!.state).toBe('open');
    // Origin null from our own page (no-referrer policy) with Sec-Fetch-Site same-origin, upper-case media type: accepted
    const ok = await postPin(auth.url, PIN, { origin: 'null', 'sec-fetch-site': 'same-origin', 'content-type': 'Application/X-WWW-Form-URLEncoded; charset=UTF-8' });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('Payment approved');
  });

  it('a used session\'s page shows its outcome, never the form', async () => {
    const card = await fx.issue();
    const s = await fx.scanner();
    const paid = await s.open(card.payloadText, 100);
    await s.pin(paid.session, PIN);
    const page = await (await fetch(paid.url)).text();
    expect(page).toContain('Payment approved');
    expect(page).not.toContain('<form');
    const declined = await s.open(card.payloadText, 100);
    await s.pin(declined.session, WRONG_PIN);
    const declinedPage = await (await fetch(declined.url)).text();
    expect(declinedPage).toContain('data-code="PIN_WRONG"');
    expect(declinedPage).not.toContain('<form');
  });
});

describe('TLS', () => {
  it('serves wss:// and https:// from a certificate, with HSTS on the page', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scanpay-tls-'));
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
    const ca = readFileSync(certFile);
    const fx = await startGatewayFixture({ store: new MemoryStore(), gateway: { tls: { certFile, keyFile } } });
    try {
      expect(fx.gateway.scannerUrl).toMatch(/^wss:\/\//);
      const device = uniqueDevice();
      const ws = new WebSocket(fx.gateway.scannerUrl, SUBPROTOCOL, { ca, headers: { authorization: `Bearer ${fx.token(device)}` } });
      const welcome = await new Promise<GatewayFrame>((resolve, reject) => {
        ws.once('message', (d) => resolve(JSON.parse(d.toString()) as GatewayFrame));
        ws.once('error', reject);
      });
      expect(welcome).toMatchObject({ type: 'welcome', scanner: device });
      const card = await fx.issue();
      ws.send(JSON.stringify({ v: 1, type: 'scan', id: 'a1', payload: card.payloadText, amount: 100, currency: 'EUR', merchant: MERCHANT }));
      const auth = await new Promise<GatewayFrame>((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()) as GatewayFrame)));
      expect(auth).toMatchObject({ type: 'auth-required', url: expect.stringMatching(/^https:\/\//) });
      const page = await new Promise<{ status: number; hsts: string | undefined }>((resolve, reject) => {
        httpsRequest((auth as { url: string }).url, { ca }, (res) => {
          res.resume();
          resolve({ status: res.statusCode!, hsts: res.headers['strict-transport-security'] as string | undefined });
        }).on('error', reject).end();
      });
      expect(page).toEqual({ status: 200, hsts: 'max-age=31536000' });
      ws.close();
    } finally {
      await fx.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('no timing oracle on key ids', () => {
  it('a forgery (unknown, retired or known key id with a bad tag) and an authentic stale or blocked payload each cost one open and one store step, writing nothing', async () => {
    const store = new MemoryStore();
    let opens = 0;
    const steps: string[] = [];
    const counted = new Proxy(store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => (steps.push(String(name)), (value as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
    const fx = await startGatewayFixture({
      store: counted,
      gateway: {
        engine: ({ keys, onBatch }) => {
          const pool = new CryptoPool({ keys, threads: 1, batch: { maxItems: 64, windowMs: 0 }, onBatch });
          const open = pool.openCard.bind(pool);
          pool.openCard = (payload) => (opens++, open(payload));
          return pool;
        },
      },
    });
    try {
      const good = await fx.issue();
      const stale = await fx.issue();
      await fx.issuer.reissueCard(stale.pan); // its printed payload is now a generation behind
      const blocked = await fx.issue();
      await fx.issuer.blockCard(blocked.pan);
      fx.keyRing.rotate();
      const retired = await fx.issue();
      const retiredId = fx.keyRing.active().id;
      fx.keyRing.rotate();
      fx.keyRing.retire(retiredId);
      await fx.saveKeys(); // the gateway's workers reload the ring: no restart
      const bytes = payloadFromText(good.payloadText);
      const badTag = bytes.slice();
      badTag[40] ^= 1;
      const unknownId = bytes.slice();
      unknownId[1] = 0x7f;
      const s = await fx.scanner();
      const cases = [
        ['known id, bad tag', payloadToText(badTag), 'CARD_INVALID'], ['unknown id', payloadToText(unknownId), 'CARD_INVALID'],
        ['retired id', retired.payloadText, 'CARD_INVALID'], ['stale generation', stale.payloadText, 'CARD_INVALID'], ['blocked', blocked.payloadText, 'CARD_BLOCKED'],
      ] as const;
      for (const [what, payload, code] of cases) {
        const opensBefore = opens;
        steps.length = 0;
        expect(await s.scan(payload, 100), what).toMatchObject({ type: 'error', code });
        expect(opens - opensBefore, what).toBe(1);
        expect(steps, what).toEqual(['openSession']); // every store call: the frame's rate unit inside it, no second step to discard a session
      }
    } finally {
      await fx.close();
    }
  });
});
