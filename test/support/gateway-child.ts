/**
 * A second gateway as its own process, for tests that attack two gateways over one store: started with
 * `node --import tsx test/support/gateway-child.ts` by spawnGatewayChild(). Configured from the environment
 * as gateway/main.ts is (SCANPAY_KEYRING, SCANPAY_FLEET_KEY, REDIS_URL or REDIS_CLUSTER_NODES, SCANPAY_REDIS_PREFIX,
 * SCANPAY_REDIS_WAIT_REPLICAS, SCANPAY_REDIS_WAIT_MS; pushes over Redis like main.ts), and CHILD_OPTIONS: JSON of
 * GatewayOptions values such as pinPaceMs, framesPerSecond, burst, pinBudget). Prints one line
 * {"event":"ready","url","scannerUrl","opsUrl","merchantUrl"} (child-process.ts emit) and closes gracefully when stdin closes.
 */
import { createLogger } from '../../gateway/log.ts';
import { startGateway } from '../../gateway/server.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { RedisPushBus } from '../../gateway/push/push-bus.ts';
import { DEFAULT_PREFIX, openStore, redisTarget } from '../../issuer/store/index.ts';
import { loadFleetKey } from '../../protocol/fleet-key.ts';
import { emit, exitWithParent } from './child-process.ts';

const env = process.env;
const prefix = env.SCANPAY_REDIS_PREFIX || DEFAULT_PREFIX;
const redis = redisTarget({ redisUrl: env.REDIS_URL || undefined, clusterNodes: env.REDIS_CLUSTER_NODES || undefined });
const store = await openStore({
  redisUrl: env.REDIS_URL || undefined, clusterNodes: env.REDIS_CLUSTER_NODES || undefined, prefix,
  waitReplicas: Number(env.SCANPAY_REDIS_WAIT_REPLICAS ?? 0), waitTimeoutMs: env.SCANPAY_REDIS_WAIT_MS ? Number(env.SCANPAY_REDIS_WAIT_MS) : undefined,
});
const gateway = await startGateway({
  store, keyRing: await IssuerKeyRing.load(), fleetKey: loadFleetKey(), port: 0, threads: 1,
  logger: createLogger({ level: 'silent' }),
  pushBus: redis ? (deliver) => RedisPushBus.connect(redis, prefix, deliver, () => {}) : undefined,
  ...(JSON.parse(process.env.CHILD_OPTIONS ?? '{}') as Record<string, unknown>),
});
exitWithParent(() => gateway.close(5_000).then(() => store.close()));
emit({ event: 'ready', url: gateway.url, scannerUrl: gateway.scannerUrl, opsUrl: gateway.opsUrl, merchantUrl: gateway.merchantUrl });
