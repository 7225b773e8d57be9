/**
 * `scanpay/gateway`: run the gateway inside your own process (what `npm start` does from the environment;
 * every option in docs/embedding.md).
 * @example
 *   import { startGateway } from 'scanpay/gateway';
 *   const gateway = await startGateway({ store, keyRing, fleetKey, port: 8080 });
 */
export { startGateway, type EngineContext, type Gateway, type GatewayOptions } from './server.ts';
export type { WebhookSettings } from './webhooks/delivery-loop.ts';
export { CryptoPool, type CryptoEngine, type CryptoPoolOptions } from './pool/crypto-pool.ts';
export { LocalPushBus, RedisPushBus, type Deliver, type PushBus } from './push/push-bus.ts';
export { LOG_LEVELS, createLogger, type GatewayLogger, type LogLevel, type ScanpayLogger } from './log.ts';
export { deviceSecret } from '../protocol/scanner-token.ts';
export { FLEET_KEY_BYTES, loadFleetKey, parseFleetKey } from '../protocol/fleet-key.ts';
export { ScanpayBaseError, isScanpayBaseError, type ErrorLayer } from '../core/errors.ts';
