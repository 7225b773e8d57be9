// Type-checked against the installed package's declaration files (exports → types), never run: a strict
// consumer without skipLibCheck, using every entry point, as a TypeScript user of the published package would.
import { loadCore, type CoreBuild, type WasmCryptoCore } from 'scanpay/core';
import { ScannerClient, parseGatewayFrame, type GatewayFrame, type ScanRequest } from 'scanpay/sdk';
import { createLogger, startGateway, type Gateway, type GatewayLogger, type GatewayOptions } from 'scanpay/gateway';
import { Issuer, IssuerKeyRing, RedisStore, openStore, type Store } from 'scanpay/issuer';

const build: CoreBuild = 'scalar';
const core: Promise<WasmCryptoCore> = loadCore(undefined, { build });
const request: ScanRequest = { payload: '', amount: 1, currency: 'EUR', merchant: 'm' };
const start: (opts: GatewayOptions) => Promise<Gateway> = startGateway;
const logger: GatewayLogger = createLogger({ level: 'silent' });
const store: Promise<Store> = openStore({ redisUrl: 'redis://127.0.0.1:6379' });
const connect: (url: string) => Promise<RedisStore> = RedisStore.connect;
const parsed = parseGatewayFrame('{}');
const frame: GatewayFrame | null = parsed.ok ? parsed.frame : null;
export { core, request, start, logger, store, connect, frame, ScannerClient, Issuer, IssuerKeyRing };
