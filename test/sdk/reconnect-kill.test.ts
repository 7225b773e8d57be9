/**
 * The SDK against a gateway process that is SIGKILLed and started again on its port (issue 9, item 3): the
 * client reconnects by itself with fresh tokens, a PIN in flight at the kill is resolved (its outcome, or a
 * typed retryable error), and a payment completes on the new process; the ledger agrees with what the client
 * was told, and nothing was paid twice.
 */
import { afterAll, expect, it } from 'vitest';
import { Issuer } from '../../issuer/issuer.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { loadCore } from '../../core/index.ts';
import { RedisStore } from '../../issuer/store/index.ts';
import { deviceSecret } from '../../protocol/scanner-token.ts';
import { ScannerClient, isScannerError } from '../../sdk/index.ts';
import { spawnGatewayChild, type GatewayProcess } from '../support/gateway-process.ts';
import { deleteKeys, describeRedis, freePort, redisForTests, testKeyPrefix } from '../support/redis.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

describeRedis(redis, 'SDK through a gateway SIGKILL and restart', (server) => {
  it('reconnects by itself, resolves the PIN in flight, and pays on the new process', async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connect(server.url, { prefix });
    const keyRing = IssuerKeyRing.generate();
    const fleetKey = new Uint8Array(32).map((_, i) => i + 7);
    const issuer = new Issuer({ core: await loadCore(), store, keyRing });
    const port = await freePort();
    const start = () => spawnGatewayChild({ redisUrl: server.url, prefix, keyRing, fleetKey, options: { port, pinPaceMs: 0 } });
    let gateway: GatewayProcess = await start();
    const deviceId = 'till-kill-1';
    const client = await ScannerClient.connect({
      url: gateway.scannerUrl, deviceId, secret: deviceSecret(fleetKey, deviceId), timeoutMs: 5_000,
      reconnect: { initialDelayMs: 100, maxDelayMs: 500, maxAttempts: 100 },
    });
    const events: string[] = [];
    client.on('disconnected', () => events.push('disconnected'));
    client.on('reconnected', () => events.push('reconnected'));
    try {
      const card = await issuer.issueCard({ pin: '1234', limit: 100_000, balance: 100_000, currency: 'EUR' });
      const scan = { payload: card.payloadText, amount: 500, currency: 'EUR', merchant: 'shop-1' };
      expect(await client.submitPin((await client.scan(scan)).session, '1234')).toMatchObject({ outcome: 'approved' });

      const inFlight = await client.scan(scan);
      const pin = client.submitPin(inFlight.session, '1234').then((r) => ({ outcome: r.outcome }), (e: unknown) => ({ error: isScannerError(e) ? e.code : String(e) }));
      await gateway.kill();
      gateway = await start();
      const told = await pin;
      const after = await client.submitPin((await client.scan(scan)).session, '1234');
      expect(after).toMatchObject({ outcome: 'approved' });
      expect(events).toEqual(expect.arrayContaining(['disconnected', 'reconnected']));

      // the ledger agrees: the in-flight PIN is paid once if it was told approved, and never twice
      const inFlightRecord = await store.getLedgerRecord(inFlight.session);
      if ('outcome' in told) expect(inFlightRecord?.outcome).toBe(told.outcome);
      const paid = 2 + (inFlightRecord?.outcome === 'approved' ? 1 : 0);
      expect((await issuer.viewCard(card.pan)).balance).toBe(100_000 - 500 * paid);
      console.log(`SIGKILL mid-PIN: the client was told ${JSON.stringify(told)}; ledger for that session: ${inFlightRecord?.outcome ?? 'none'}; payments ${paid}`);
    } finally {
      await client.close();
      await gateway.stop();
      await store.close();
      await deleteKeys(server.url, prefix);
    }
  }, 60_000);
});
