/**
 * An embedder's process, as docs/embedding.md shows one (`node --import tsx test/support/embedder-child.ts`,
 * run by test/gateway/close-exit.test.ts): opens a store (REDIS_URL and SCANPAY_REDIS_PREFIX set: Redis, with
 * pushes over it; else the embedded store), starts a gateway from a key ring file (watched), pays one card
 * through the SDK, and with KEEP_ALIVE=1 also leaves an idle HTTP keep-alive connection to each listener (as
 * a load balancer's or Prometheus's check would). Then it closes the gateway and the store and prints one
 * line, {"event":"closed","resources":[…]}: process.getActiveResourcesInfo() right after (and, should it not
 * exit, a "still-running" line with them every half second). It sets no exit code and calls no process.exit:
 * the test checks that it exits by itself.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCore } from '../../core/index.ts';
import { createLogger } from '../../gateway/log.ts';
import { RedisPushBus } from '../../gateway/push/push-bus.ts';
import { startGateway } from '../../gateway/server.ts';
import { Issuer } from '../../issuer/issuer.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { openStore, redisTarget } from '../../issuer/store/index.ts';
import { deviceSecret } from '../../protocol/scanner-token.ts';
import { ScannerClient } from '../../sdk/index.ts';

const env = process.env;
const prefix = env.SCANPAY_REDIS_PREFIX;
const redis = env.REDIS_URL ? redisTarget({ redisUrl: env.REDIS_URL }) : null;
const store = await openStore(redis ? { redisUrl: env.REDIS_URL, prefix } : {});
const keyRing = IssuerKeyRing.generate();
const dir = mkdtempSync(join(tmpdir(), 'scanpay-embedder-'));
const keyRingFile = join(dir, 'keyring.json');
await keyRing.save(keyRingFile);
const fleetKey = new Uint8Array(randomBytes(32));
const gateway = await startGateway({
  store, keyRingFile, keyRingPollMs: 200, fleetKey, port: 0, threads: 1, pinPaceMs: 0, logger: createLogger({ level: 'silent' }),
  pushBus: redis ? (deliver) => RedisPushBus.connect(redis, prefix!, deliver, () => {}) : undefined,
});

const issuer = new Issuer({ core: await loadCore(), store, keyRing });
const card = await issuer.issueCard({ pin: '1234', limit: 10_000, balance: 10_000, currency: 'EUR' });
const client = await ScannerClient.connect({ url: gateway.scannerUrl, deviceId: 'till-1', secret: deviceSecret(fleetKey, 'till-1') });
const auth = await client.scan({ payload: card.payloadText, amount: 500, currency: 'EUR', merchant: 'shop-1' });
const paid = await client.submitPin(auth.session, '1234');
if (paid.outcome !== 'approved') throw new Error(`the payment was ${paid.outcome}`);
await client.close();

if (env.KEEP_ALIVE === '1') {
  // Node's agent unreferences an idle pooled socket: only the gateway's side of the connection remains
  const agent = new Agent({ keepAlive: true, keepAliveMsecs: 60_000 });
  for (const url of [`${gateway.url}/healthz`, `${gateway.opsUrl}/healthz`]) {
    await new Promise<void>((resolve, reject) => {
      get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url}: ${res.statusCode}`))));
      }).on('error', reject);
    });
  }
}

await gateway.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ event: 'closed', resources: process.getActiveResourcesInfo() })}\n`);
// should the process not exit, what is still open, every half second (this timer itself holds nothing open)
setInterval(() => process.stdout.write(`${JSON.stringify({ event: 'still-running', resources: process.getActiveResourcesInfo() })}\n`), 500).unref();
