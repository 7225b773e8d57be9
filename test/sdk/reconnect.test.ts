/**
 * The SDK's reconnection (sdk/scanner-client.ts, docs/protocol.md §7.1) against real gateways: one stopped
 * and a new one started on the same port over the same MemoryStore, key ring and fleet key (what a
 * restarted gateway process is to a scanner), and network cuts under a gateway that stays up (so a re-used
 * single-use token would be refused). Scanners reach the gateway through a TCP relay (a load balancer's
 * place), which can cut connections without the gateway knowing. A gateway that closed its connections
 * itself can be restarted on its port at once too (the last test; it used to wait 60 s for TIME_WAIT,
 * test/fuzz/README.md finding 3). Checks: the client reconnects by itself with
 * backoff and pays after the restart; a pin in flight at the stop gets its outcome or a typed error, and the
 * ledger and balance agree with what the client was told; a scan in flight rejects DISCONNECTED
 * (retryable); requests made while down wait for the connection; attempts are bounded; a 401 stops them.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { MemoryStore } from '../../issuer/store/index.ts';
import { deviceSecret } from '../../protocol/scanner-token.ts';
import { ScannerClient, ScannerError, isScannerError, type ScannerClientOptions } from '../../sdk/index.ts';
import { MERCHANT, PIN, startGatewayFixture, uniqueDevice, type GatewayFixture } from '../support/gateway-fixture.ts';
import { freePort } from '../support/redis.ts';

const AMOUNT = 1_250;
const FAST = { initialDelayMs: 20, maxDelayMs: 200 };

const store = new MemoryStore();
const keyRing = IssuerKeyRing.generate();
const fleetKey = new Uint8Array(randomBytes(32));
const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).reverse().map((o) => o.close()));
});

async function gateway(port = 0, key = fleetKey): Promise<GatewayFixture> {
  const fx = await startGatewayFixture({ store, keyRing, fleetKey: key, gateway: { port } });
  open.push(fx);
  return fx;
}

async function client(url: string, extra: Partial<ScannerClientOptions> = {}): Promise<ScannerClient> {
  const deviceId = uniqueDevice('sdk');
  const c = await ScannerClient.connect({ url, deviceId, secret: deviceSecret(fleetKey, deviceId), timeoutMs: 5_000, reconnect: FAST, ...extra });
  open.push(c);
  return c;
}

function once<T>(c: ScannerClient, event: 'reconnected' | 'disconnected' | 'close'): Promise<T> {
  return new Promise((resolve) => {
    const off = c.on(event, ((value: T) => {
      off();
      resolve(value);
    }) as never);
  });
}

async function pay(c: ScannerClient, payloadText: string) {
  const auth = await c.scan({ payload: payloadText, amount: AMOUNT, currency: 'EUR', merchant: MERCHANT });
  return c.submitPin(auth.session, PIN);
}

/**
 * A TCP relay to `port`: cut() drops every connection at once (a network loss, the gateway unaware);
 * while `holdReplies` is set, bytes from the gateway are swallowed (an answer lost on the way back).
 */
type Relay = { url: string; holdReplies: boolean; cut(): void; close(): Promise<void> };
async function relay(port: number): Promise<Relay> {
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(port, '127.0.0.1');
    const pair: [Socket, Socket] = [inbound, outbound];
    pairs.add(pair);
    inbound.on('data', (d) => outbound.write(d));
    outbound.on('data', (d) => r.holdReplies || inbound.write(d));
    for (const s of pair) {
      s.on('error', () => {}).on('close', () => { // either side gone: the other goes too, as through a real hop
        pairs.delete(pair);
        for (const other of pair) other.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: relayPort } = server.address() as { port: number };
  const cut = () => {
    for (const pair of pairs) for (const s of pair) s.destroy();
  };
  const r: Relay = {
    url: `ws://127.0.0.1:${relayPort}/scanner`, holdReplies: false, cut,
    close: () => new Promise<void>((resolve) => { cut(); server.close(() => resolve()); }),
  };
  open.push(r);
  return r;
}

/** A gateway behind a relay: kill() cuts every connection and stops the gateway; restart() starts a new one on the same port. */
async function site(): Promise<{ fx: GatewayFixture; net: Relay; kill(): Promise<void>; restart(key?: Uint8Array): Promise<GatewayFixture> }> {
  const first = await gateway();
  const net = await relay(first.gateway.port);
  const s = {
    fx: first, net,
    async kill() {
      net.cut();
      await s.fx.gateway.close(0); // no drain: answers still being computed are lost with the connection
      await s.fx.close();
    },
    async restart(key = fleetKey) {
      s.fx = await gateway(first.gateway.port, key);
      return s.fx;
    },
  };
  return s;
}

describe('SDK reconnection', () => {
  it('reconnects by itself, with backoff, to a gateway restarted on the same port, and pays', async () => {
    const gw = await site();
    const card = await gw.fx.issue();
    const c = await client(gw.net.url);
    expect((await pay(c, card.payloadText)).outcome).toBe('approved');

    const failures: number[] = [];
    c.on('reconnect-failed', (_e, attempt, retryInMs) => {
      failures.push(attempt);
      expect(retryInMs).toBeGreaterThan(0);
    });
    const disconnected = once<ScannerError>(c, 'disconnected');
    await gw.kill();
    expect((await disconnected).code).toBe('CLOSED');
    expect(c.state).toBe('reconnecting');
    await expect.poll(() => failures.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(3); // refused while down, and retried

    const reconnected = once<{ attempts: number }>(c, 'reconnected');
    const second = await gw.restart();
    expect((await reconnected).attempts).toBeGreaterThan(failures.length - 1);
    expect(c.state).toBe('open');
    expect((await pay(c, card.payloadText)).outcome).toBe('approved');
    expect((await second.issuer.viewCard(card.pan)).balance).toBe(1_000_000 - 2 * AMOUNT);
  });

  it('a pin in flight when the gateway stops gets its outcome or a typed error, and the ledger agrees', async () => {
    const gw = await site();
    const card = await gw.fx.issue();
    const c = await client(gw.net.url);
    const auth = await c.scan({ payload: card.payloadText, amount: AMOUNT, currency: 'EUR', merchant: MERCHANT });
    const scanInFlight = c.scan({ payload: card.payloadText, amount: AMOUNT, currency: 'EUR', merchant: MERCHANT }).then(() => 'answered', (e: unknown) => e);
    const pinInFlight = c.submitPin(auth.session, PIN).then((r) => r, (e: unknown) => e);
    await new Promise((resolve) => setImmediate(resolve)); // the frames are written, not yet answered
    await gw.kill();
    const second = await gw.restart();

    const outcome = (await pinInFlight) as Awaited<ReturnType<ScannerClient['submitPin']>> | Error;
    const record = await store.getLedgerRecord(auth.session);
    const balance = (await second.issuer.viewCard(card.pan)).balance;
    if (outcome instanceof Error) {
      // told "not paid": then nothing was paid
      expect(isScannerError(outcome) && ['SESSION_USED', 'INTERNAL', 'SHUTTING_DOWN'].includes(outcome.code), String(outcome)).toBe(true);
      expect(record?.outcome ?? 'none').not.toBe('approved');
      expect(balance).toBe(1_000_000);
    } else {
      // told the outcome: it is the ledger's, and the money moved once
      expect(outcome.outcome).toBe('approved');
      expect(record?.outcome).toBe('approved');
      expect(outcome.receipt?.mac).toBeTruthy();
      expect(balance).toBe(1_000_000 - AMOUNT);
    }
    const scanOutcome = await scanInFlight;
    if (scanOutcome !== 'answered') {
      expect(isScannerError(scanOutcome) && ['DISCONNECTED', 'SHUTTING_DOWN'].includes(scanOutcome.code), String(scanOutcome)).toBe(true);
      expect((scanOutcome as ScannerError).retryable).toBe(true);
    }
    expect((await pay(c, card.payloadText)).outcome).toBe('approved'); // and the client carries on
  });

  it('a pin whose answer was lost is resumed after reconnecting: the recorded outcome, replayed, paid once', async () => {
    const gw = await site();
    const card = await gw.fx.issue();
    const c = await client(gw.net.url);
    const auth = await c.scan({ payload: card.payloadText, amount: AMOUNT, currency: 'EUR', merchant: MERCHANT });
    gw.net.holdReplies = true;
    const pin = c.submitPin(auth.session, PIN);
    await expect.poll(() => store.getLedgerRecord(auth.session), { timeout: 5_000 }).toBeTruthy(); // paid; the answer is lost
    const reconnected = once<{ resumed: number }>(c, 'reconnected');
    gw.net.cut();
    gw.net.holdReplies = false;
    expect((await reconnected).resumed).toBe(1);
    const result = await pin;
    expect(result).toMatchObject({ outcome: 'approved', replayed: true, session: auth.session });
    expect(result.receipt?.mac).toMatch(/^[0-9a-f]{64}$/);
    expect((await gw.fx.issuer.viewCard(card.pan)).balance).toBe(1_000_000 - AMOUNT);
  });

  it('a reverse whose answer was lost is resumed after reconnecting: the first reversal\'s action, replayed, refunded once', async () => {
    const gw = await site();
    const card = await gw.fx.issue();
    const c = await client(gw.net.url);
    const auth = await c.scan({ payload: card.payloadText, amount: AMOUNT, currency: 'EUR', merchant: MERCHANT });
    expect((await c.submitPin(auth.session, PIN)).outcome).toBe('approved');
    gw.net.holdReplies = true;
    const reversal = c.reverse(auth.session);
    await expect.poll(async () => (await store.payments.getPayment(auth.session))?.reversal, { timeout: 5_000 }).toBe('refunded'); // done; the answer is lost
    const reconnected = once<{ resumed: number }>(c, 'reconnected');
    gw.net.cut();
    gw.net.holdReplies = false;
    expect((await reconnected).resumed).toBe(1);
    expect(await reversal).toMatchObject({ type: 'reversal', session: auth.session, action: 'refunded', replayed: true });
    expect((await store.payments.entries(auth.session)).filter((e) => e.type === 'refund')).toHaveLength(1);
    expect((await gw.fx.issuer.viewCard(card.pan)).balance).toBe(1_000_000);
  });

  it('a network cut under a running gateway: reconnects each time with a fresh single-use token', async () => {
    const fx = await gateway();
    const card = await fx.issue();
    const net = await relay(fx.gateway.port);
    const c = await client(net.url);
    for (let cut = 0; cut < 3; cut++) {
      const reconnected = once(c, 'reconnected');
      net.cut();
      await reconnected; // a replayed token would get 401, and the client would close instead
      expect((await pay(c, card.payloadText)).outcome).toBe('approved');
    }
    expect(c.state).toBe('open');
  });

  it('requests made while reconnecting wait for the connection; a ping on the wire at the drop rejects DISCONNECTED', async () => {
    const gw = await site();
    const c = await client(gw.net.url);
    const onWire = c.ping().then(() => 'answered', (e: unknown) => (isScannerError(e) ? e.code : String(e)));
    const disconnected = once(c, 'disconnected');
    await gw.kill();
    await disconnected;
    expect(['answered', 'DISCONNECTED']).toContain(await onWire);
    const waiting = c.ping({ timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await gw.restart();
    expect(await waiting).toBeGreaterThan(0);
  });

  it('gives up after maxAttempts: close event, state closed, pending requests reject CLOSED', async () => {
    const fx = await gateway();
    const c = await client(fx.gateway.scannerUrl, { reconnect: { ...FAST, maxAttempts: 3 } });
    const closed = once<ScannerError>(c, 'close');
    await fx.close();
    const waiting = c.ping({ timeoutMs: 10_000 }).then(() => 'answered', (e: unknown) => (isScannerError(e) ? e.code : String(e)));
    expect((await closed).message).toMatch(/gave up reconnecting after 3 attempts/);
    expect(c.state).toBe('closed');
    expect(await waiting).toBe('CLOSED');
  });

  it('a gateway that refuses the device (401) stops the attempts: close with UNAUTHORIZED', async () => {
    const gw = await site();
    const c = await client(gw.net.url);
    const closed = once<ScannerError>(c, 'close');
    await gw.kill();
    await gw.restart(new Uint8Array(randomBytes(32))); // another fleet key: this device's tokens no longer verify
    expect((await closed).code).toBe('UNAUTHORIZED');
    expect(c.state).toBe('closed');
  });

  it('without reconnect, a drop closes the client as before', async () => {
    const fx = await gateway();
    const c = await client(fx.gateway.scannerUrl, { reconnect: false });
    const closed = once<ScannerError>(c, 'close');
    await fx.close();
    expect((await closed).code).toBe('CLOSED');
    expect(c.state).toBe('closed');
  });

  // test/fuzz/README.md, finding 3 (fixed): the server side of each connection the gateway closed is in
  // TIME_WAIT, and a listener opened on port 0 used to lack SO_REUSEADDR (uSockets sets it only for a given
  // port), so the same port could not be bound for 60 s. gateway/transport/uws-server.ts listen() now picks
  // the port itself. A given port always had SO_REUSEADDR (`npm start` gives one); both are checked.
  it.each(['port 0', 'a given port'])('a gateway started on %s that closed its own connections can be restarted on its port at once', async (how) => {
    const first = await gateway(how === 'port 0' ? 0 : await freePort());
    const c = await client(first.gateway.scannerUrl, { reconnect: false });
    const closed = once(c, 'close');
    await first.close();
    await closed;
    // the case in question: the gateway's side of the connection it closed waits in TIME_WAIT
    const ss = spawnSync('ss', ['-Htan', 'state', 'time-wait', `sport = :${first.gateway.port}`], { encoding: 'utf8' });
    if (ss.error || ss.status !== 0) throw new Error(`ss (iproute2) is needed to see TIME_WAIT sockets: ${ss.error?.message ?? ss.stderr}`);
    expect(ss.stdout.trim()).not.toBe('');
    await gateway(first.gateway.port);
  });
});
