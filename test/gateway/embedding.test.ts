/**
 * startGateway as an embedder calls it (`scanpay/gateway`, docs/embedding.md): a bad option is BAD_ARGUMENT
 * with the reason, thrown before anything listens or any worker starts; a public URL with a trailing slash
 * gives page links without a double slash; createLogger refuses a level pino does not have.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../gateway/log.ts';
import { startGateway, type GatewayOptions } from '../../gateway/server.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { MemoryStore } from '../../issuer/store/index.ts';
import { startGatewayFixture } from '../support/gateway-fixture.ts';
import { freePort } from '../support/redis.ts';

/** True when nothing listens on the port: we can bind it ourselves. */
const portIsFree = (port: number) => new Promise<boolean>((resolve) => {
  const probe = createServer();
  probe.once('error', () => resolve(false));
  probe.listen({ host: '127.0.0.1', port, exclusive: true }, () => probe.close(() => resolve(true)));
});

describe('startGateway refuses a bad option before it starts anything', () => {
  const store = new MemoryStore();
  afterAll(() => store.close());

  it.each([
    ['a host in brackets', { host: '[::1]' }, /host must be an IP address \(IPv6 without brackets, e\.g\. ::1\) or a host name \(got "\[::1\]"\)/],
    ['an ops host with a space', { opsHost: 'ops host' }, /opsHost must be an IP address/],
    ['a public URL with a path', { publicUrl: 'https://pay.example.com/pay' }, /publicUrl must be an origin only, such as https:\/\/pay\.example\.com/],
    ['a public URL that is none', { publicUrl: 'pay.example.com' }, /publicUrl must be a URL such as https:\/\/pay\.example\.com/],
    ['TLS files that do not exist', { tls: { certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' } },
      /tls\.certFile \/nonexistent\/cert\.pem: cannot read it \(ENOENT\); tls\.keyFile \/nonexistent\/key\.pem: cannot read it \(ENOENT\)/],
    ['a 16-byte fleet key', { fleetKey: randomBytes(16) }, /fleetKey must be 32 bytes/],
    ['a fleet key in hex', { fleetKey: 'ab'.repeat(32) as unknown as Uint8Array }, /fleetKey must be 32 bytes/],
    ['both key ring forms', { keyRingFile: '/nonexistent/keyring.json' }, /keyRingFile or keyRing \(one of the two\)/],
    ['a webhook schedule with a negative delay', { webhooks: { retryScheduleMs: [1_000, -1] } }, /webhooks\.retryScheduleMs must be at most 64 delays/],
    ['no webhook slots', { webhooks: { maxConcurrent: 0 } }, /webhooks\.timeoutMs, maxConcurrent and maxResponseBytes must be whole numbers from 1/],
    ['allowPrivate as text', { webhooks: { allowPrivate: 'yes' as unknown as boolean } }, /webhooks\.allowPrivate must be true or false/],
    ['a fractional sealer interval', { sealerIntervalMs: 0.5 }, /sealerIntervalMs must be a whole number of ms/],
  ])('%s: BAD_ARGUMENT, and nothing listens', async (_, bad, message) => {
    const port = await freePort();
    const opts: GatewayOptions = {
      store, keyRing: IssuerKeyRing.generate(), fleetKey: randomBytes(32), port, opsPort: 0, threads: 1, logger: createLogger({ level: 'silent' }),
      ...(bad as Partial<GatewayOptions>),
    };
    const started = startGateway(opts);
    await expect(started).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(message) });
    expect(await portIsFree(port)).toBe(true);
  });

  it('a public URL with a trailing slash: page links read origin/auth/…, without a double slash', async () => {
    const fx = await startGatewayFixture({ store, gateway: { publicUrl: 'https://pay.example.com/' } });
    try {
      const card = await fx.issue();
      const answer = await (await fx.scanner()).scan(card.payloadText, 1250);
      expect(answer.type).toBe('auth-required');
      if (answer.type === 'auth-required') expect(answer.url).toMatch(/^https:\/\/pay\.example\.com\/auth\/[^/?]+\?t=/);
    } finally {
      await fx.close();
    }
  });
});

describe('GatewayOptions is documented where an embedder looks', () => {
  const source = readFileSync(new URL('../../gateway/server.ts', import.meta.url), 'utf8');
  const block = /export interface GatewayOptions \{\n([\s\S]*?)\n\}/.exec(source)![1].split('\n');
  const fields = block.map((line, i) => ({ i, name: /^ {2}(\w+)\??:/.exec(line)?.[1] })).filter((f) => f.name !== undefined);
  const table = readFileSync(new URL('../../docs/embedding.md', import.meta.url), 'utf8').split('## Options')[1].split('\n## ')[0];
  const rows = [...table.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);

  it('finds the fields', () => {
    expect(fields.map((f) => f.name)).toEqual(expect.arrayContaining(['store', 'keyRingFile', 'fleetKey', 'publicUrl', 'pushBus']));
    expect(fields.length).toBeGreaterThan(20);
  });

  it('every field has a doc comment (what the declarations and an editor show)', () => {
    expect(fields.filter((f) => !block[f.i - 1].trimEnd().endsWith('*/')).map((f) => f.name)).toEqual([]);
  });

  it('docs/embedding.md has a row for every field, and none for a field that is not there', () => {
    expect([...rows].sort()).toEqual(fields.map((f) => f.name!).sort());
  });
});

describe('Gateway.close', () => {
  it('is one shutdown however many callers ask: concurrent and later calls wait for it, and it runs once', async () => {
    const store = new MemoryStore();
    const events: string[] = [];
    const record = (event: Record<string, unknown>) => void events.push(String(event.event));
    const logger = { debug: record, info: record, warn: record, error: record };
    const gateway = await startGateway({ store, keyRing: IssuerKeyRing.generate(), fleetKey: randomBytes(32), port: 0, threads: 1, logger });
    await Promise.all([gateway.close(), gateway.close(0), gateway.close()]);
    await gateway.close();
    expect(events.filter((e) => e === 'gateway.stopped')).toEqual(['gateway.stopped']);
    expect(await fetch(`${gateway.url}/healthz`).then(() => 'answered', () => 'refused')).toBe('refused');
    await store.close();
  });
});

describe('createLogger', () => {
  it('refuses a level pino does not have (BAD_ARGUMENT), from its option or from LOG_LEVEL', () => {
    expect(() => createLogger({ level: 'loud' })).toThrowError(expect.objectContaining({
      code: 'BAD_ARGUMENT', message: expect.stringContaining('the log level must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'),
    }));
    const before = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'INFO';
    try {
      expect(() => createLogger()).toThrowError(expect.objectContaining({ code: 'BAD_ARGUMENT', message: expect.stringContaining('LOG_LEVEL must be one of') }));
    } finally {
      if (before === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = before;
    }
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) expect(() => createLogger({ level })).not.toThrow();
  });
});
