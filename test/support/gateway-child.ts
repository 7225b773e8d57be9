/**
 * A second gateway as its own process, for tests that attack two gateways over one store: started with
 * `node --import tsx test/support/gateway-child.ts` by spawnGatewayChild(). Configured from the environment
 * (SCANPAY_KEYRING, SCANPAY_FLEET_KEY, REDIS_URL, SCANPAY_REDIS_PREFIX, and CHILD_OPTIONS: JSON of
 * GatewayOptions numbers such as pinPaceMs, framesPerSecond, burst). Prints one line
 * {"event":"ready","url","scannerUrl","opsUrl"} and closes gracefully when stdin closes.
 */
import { createLogger } from '../../gateway/log.ts';
import { startGateway } from '../../gateway/server.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { openStore } from '../../issuer/store/index.ts';
import { loadFleetKey } from '../../protocol/fleet-key.ts';

const store = await openStore({ redisUrl: process.env.REDIS_URL, prefix: process.env.SCANPAY_REDIS_PREFIX });
const gateway = await startGateway({
  store, keyRing: await IssuerKeyRing.load(), fleetKey: loadFleetKey(), port: 0, threads: 1,
  logger: createLogger({ level: 'silent' }),
  ...(JSON.parse(process.env.CHILD_OPTIONS ?? '{}') as Record<string, number>),
});
process.stdout.write(`${JSON.stringify({ event: 'ready', url: gateway.url, scannerUrl: gateway.scannerUrl, opsUrl: gateway.opsUrl })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void gateway.close(5_000).then(() => store.close()).finally(() => process.exit(0));
});
