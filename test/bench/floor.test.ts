/**
 * The architecture's floor (bench/floor): it speaks enough of the scanner protocol for the load generator
 * (welcome, scan → auth-required with a session, pin → payment-result approved, a typed error for anything
 * else), and per payment it makes exactly three script calls that each write one key: the work bench:e2e
 * divides our gateway's cost by. Its configuration is read as the gateway's is. No timing here.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { readFloorConfig, FLOOR_DEFAULT_PREFIX } from '../../bench/floor/config.ts';
import { startFloor, type Floor } from '../../bench/floor/server.ts';
import { ConfigError } from '../../gateway/config.ts';
import { SUBPROTOCOL } from '../../protocol/messages.ts';
import { deleteKeys, describeRedis, keysUnder, redisForTests, testKeyPrefix } from '../support/redis.ts';

const redis = await redisForTests();
afterAll(() => redis?.stop());

type Frame = Record<string, unknown> & { type: string };

/** A scanner connection that answers frames in order. */
async function connect(url: string): Promise<{ ws: WebSocket; next(): Promise<Frame>; send(frame: object): void }> {
  const ws = new WebSocket(url, SUBPROTOCOL);
  const queue: Frame[] = [];
  const waiting: ((f: Frame) => void)[] = [];
  ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as Frame;
    const w = waiting.shift();
    if (w) w(frame);
    else queue.push(frame);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return {
    ws,
    next: () => new Promise((resolve) => (queue.length > 0 ? resolve(queue.shift()!) : waiting.push(resolve))),
    send: (frame) => ws.send(JSON.stringify(frame)),
  };
}

describe('readFloorConfig', () => {
  it('takes the gateway\'s variables and defaults, and needs REDIS_URL', () => {
    const c = readFloorConfig({ REDIS_URL: 'redis://127.0.0.1:6379', PORT: '0', OPS_PORT: '0', SCANPAY_THREADS: '1', SCANPAY_BATCH_MAX: '8' });
    expect(c).toMatchObject({ host: '127.0.0.1', port: 0, opsPort: 0, threads: 1, batch: { maxItems: 8, windowMs: 0 }, prefix: FLOOR_DEFAULT_PREFIX });
    expect(() => readFloorConfig({})).toThrow(ConfigError);
    try {
      readFloorConfig({ REDIS_URL: 'redis://x', PORT: 'eighty', SCANPAY_REDIS_PREFIX: 'a b' });
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).problems).toHaveLength(2); // every bad value at once
    }
  });
});

describeRedis(redis, 'the floor server', (r) => {
  const prefix = testKeyPrefix();
  let floor: Floor;
  let admin: Redis;
  beforeAll(async () => {
    floor = await startFloor({ ...readFloorConfig({ REDIS_URL: r.url, SCANPAY_REDIS_PREFIX: prefix, PORT: '0', OPS_PORT: '0', SCANPAY_THREADS: '1' }) });
    admin = new Redis(r.url);
  });
  afterAll(async () => {
    await floor?.close();
    admin?.disconnect();
    await deleteKeys(r.url, prefix);
  });

  it('greets, answers scan and pin as the gateway does, with three script calls per payment, each writing its session\'s one key', async () => {
    const scanner = await connect(floor.url);
    expect(await scanner.next()).toMatchObject({ type: 'welcome', v: 1 });
    expect(scanner.ws.protocol).toBe(SUBPROTOCOL);
    const statsBefore = r.shared ? null : await admin.info('commandstats');
    const payments = 5;
    const sessions: string[] = [];
    for (let i = 0; i < payments; i++) {
      scanner.send({ v: 1, type: 'scan', id: `${i}s`, payload: 'anything', amount: 100, currency: 'EUR', merchant: 'm' });
      const auth = await scanner.next();
      expect(auth).toMatchObject({ type: 'auth-required', id: `${i}s` });
      expect(auth.session).toMatch(/^[0-9a-f]{32}$/);
      sessions.push(auth.session as string);
      scanner.send({ v: 1, type: 'pin', id: `${i}p`, session: auth.session, pin: '1234' });
      expect(await scanner.next()).toMatchObject({ type: 'payment-result', id: `${i}p`, session: auth.session, outcome: 'approved' });
    }
    const keys = await keysUnder(admin, prefix);
    expect(keys.sort()).toEqual(sessions.map((s) => `${prefix}floor:${s}`).sort());
    for (const key of keys) expect(await admin.get(key)).toBe('paid');
    if (statsBefore !== null) { // a private server: its counts are the floor's alone
      const calls = (info: string, name: string) => Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
      const after = await admin.info('commandstats');
      const scripts = calls(after, 'evalsha') + calls(after, 'eval') - calls(statsBefore, 'evalsha') - calls(statsBefore, 'eval');
      expect(scripts).toBe(3 * payments);
      expect(calls(after, 'set') - calls(statsBefore, 'set')).toBe(3 * payments);
    }
    scanner.ws.close();
  });

  it('answers a frame it cannot take with a typed error, and keeps the connection', async () => {
    const scanner = await connect(floor.url);
    await scanner.next(); // welcome
    scanner.ws.send('not json');
    expect(await scanner.next()).toMatchObject({ type: 'error', id: null, code: 'BAD_FRAME' });
    scanner.send({ v: 1, type: 'pin', id: 'x', session: 'not-a-session', pin: '1234' });
    expect(await scanner.next()).toMatchObject({ type: 'error', id: 'x', code: 'BAD_FRAME' });
    scanner.send({ v: 1, type: 'ping', id: 'y' });
    expect(await scanner.next()).toMatchObject({ type: 'error', id: 'y', code: 'BAD_FRAME' });
    scanner.ws.close();
  });

  it('answers /healthz and /readyz on its ops port', async () => {
    const base = `http://127.0.0.1:${floor.opsPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });
});
