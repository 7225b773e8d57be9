/**
 * One webhook request against hostile receivers and forbidden addresses (gateway/webhooks/http-delivery.ts,
 * address-policy.ts): without SCANPAY_WEBHOOK_ALLOW_PRIVATE, no connection is made to 127.0.0.1, 10.x, ::1,
 * ::ffff:127.0.0.1 or a name resolving to loopback (a listener there sees none); a receiver that never answers
 * is given up at the deadline (its socket closed); one that answers 1 GB has a bounded part of it read; a
 * redirect to loopback is a failure and never followed.
 */
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkEndpointUrl, isForbiddenAddress } from '../../gateway/webhooks/address-policy.ts';
import { postWebhook } from '../../gateway/webhooks/http-delivery.ts';
import { WebhookReceiver, until } from '../support/webhook-receiver.ts';

const LIMITS = { timeoutMs: 400, maxResponseBytes: 64 * 1024, allowPrivate: false };
const body = '{"object":"event"}';
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** A TCP listener on 127.0.0.1 counting the connections it gets. */
async function listener(): Promise<{ port: number; count: () => number }> {
  let n = 0;
  const server: Server = createTcpServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((r) => server.close(r)));
  return { port: (server.address() as AddressInfo).port, count: () => n };
}

describe('addresses', () => {
  it.each([
    '127.0.0.1', '127.8.9.10', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '100.127.255.254',
    '0.0.0.0', '224.0.0.1', '239.255.255.250', '255.255.255.255', '240.0.0.1', '192.0.2.1', '198.18.0.1',
    '::', '::1', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254',
    '::127.0.0.1', '::ffff:0:7f00:1', 'fe80::1%eth0', 'FE80::1', '0:0:0:0:0:ffff:7f00:1', '64:ff9b::7f00:1', '64:ff9b::10.0.0.1', '2002:7f00:1::', '2002:a00:1::1', '2001:db8::1', 'not-an-ip',
  ])('refuses %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])('allows %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });

  it('registration takes https URLs without credentials pointing at no forbidden literal; http and private ones only when allowed', () => {
    const strict = { allowPrivate: false };
    const open = { allowPrivate: true };
    expect(checkEndpointUrl('https://hooks.example/x?y=1', strict)).toEqual({ url: 'https://hooks.example/x?y=1' });
    for (const [url, rule] of [
      ['http://hooks.example/x', 'must be https'], ['ftp://hooks.example/', 'only https'], ['https://u:p@hooks.example/', 'user name'],
      ['https://hooks.example/#x', 'fragment'], ['https://127.0.0.1/', 'loopback'], ['https://[::1]/', 'loopback'], ['https://[::ffff:127.0.0.1]/', 'loopback'],
      ['https://10.0.0.1/', 'loopback'], ['https://localhost:8443/', 'loopback'], ['https://0x7f.1/', 'loopback'], ['https://2130706433/', 'loopback'],
      ['not a url', 'absolute'], [`https://hooks.example/${'a'.repeat(2048)}`, 'at most'],
    ]) {
      const checked = checkEndpointUrl(url!, strict);
      expect(checked, url).toHaveProperty('problem');
      expect((checked as { problem: string }).problem, url).toContain(rule);
      if (url!.length > 20) expect((checked as { problem: string }).problem).not.toContain(url!.slice(8, 20)); // names the rule, not the URL
    }
    expect(checkEndpointUrl('http://127.0.0.1:8080/hooks', open)).toEqual({ url: 'http://127.0.0.1:8080/hooks' });
  });
});

describe('postWebhook', () => {
  it('without ALLOW_PRIVATE connects to none of 127.0.0.1, ::1, ::ffff:127.0.0.1, localhost, 10.x', async () => {
    const target = await listener();
    for (const url of [
      `https://127.0.0.1:${target.port}/`, `https://[::1]:${target.port}/`, `https://[::ffff:127.0.0.1]:${target.port}/`, `https://localhost:${target.port}/`,
      'https://10.255.255.1/', `http://127.0.0.1:${target.port}/`,
    ]) {
      const result = await postWebhook(url, body, {}, LIMITS);
      expect(result, url).toMatchObject({ delivered: false });
      expect(['forbidden-address', 'bad-url'], url).toContain((result as { reason: string }).reason);
      if (url.startsWith('https')) expect((result as { reason: string }).reason, url).toBe('forbidden-address');
    }
    expect(target.count()).toBe(0);
  });

  it('delivers on 2xx, fails on 4xx/5xx, and sends the headers given', async () => {
    const r = await WebhookReceiver.start((_, n) => ({ status: n === 1 ? 204 : 500 }));
    closers.push(() => r.close());
    const open = { ...LIMITS, allowPrivate: true };
    expect(await postWebhook(r.url, body, { 'Scanpay-Event-Id': 'ev_x', 'Scanpay-Signature': 't=1,v1=aa' }, open)).toEqual({ delivered: true, status: 204 });
    expect(await postWebhook(r.url, body, {}, open)).toEqual({ delivered: false, reason: 'status', status: 500 });
    expect(r.received[0]).toEqual({ eventId: 'ev_x', signature: 't=1,v1=aa', body });
  });

  it('a receiver that never answers: given up at the deadline, its connection closed', async () => {
    const r = await WebhookReceiver.start(() => 'hang');
    closers.push(() => r.close());
    expect(await postWebhook(r.url, body, {}, { ...LIMITS, allowPrivate: true })).toEqual({ delivered: false, reason: 'timeout' });
    await until(() => r.closedConnections === 1, 'the hung connection to close');
  });

  it('a receiver answering 1 GB: a bounded part is read, then the connection is dropped', async () => {
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const r = await WebhookReceiver.start(() => (res) => {
      res.writeHead(200, { 'content-length': String(1024 ** 3) });
      const pump = () => {
        while (written < 1024 ** 3 && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      res.on('close', () => {}); // destroyed by the client's close
      pump();
    });
    closers.push(() => r.close());
    expect(await postWebhook(r.url, body, {}, { ...LIMITS, timeoutMs: 10_000, allowPrivate: true })).toEqual({ delivered: true, status: 200 });
    await until(() => r.closedConnections === 1, 'the connection to drop');
    expect(written).toBeLessThan(32 * 1024 * 1024); // what the socket buffers took, far from 1 GB
  });

  it('a redirect to loopback is a failure, never followed', async () => {
    const inside = await listener();
    const r = await WebhookReceiver.start(() => ({ status: 307, headers: { location: `http://127.0.0.1:${inside.port}/admin` } }));
    closers.push(() => r.close());
    expect(await postWebhook(r.url, body, {}, { ...LIMITS, allowPrivate: true })).toEqual({ delivered: false, reason: 'redirect', status: 307 });
    expect(inside.count()).toBe(0);
  });
});
