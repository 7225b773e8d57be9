// Type-checked against the installed package's declaration files (exports → types), never run.
import { loadCore, type CoreBuild, type WasmCryptoCore } from 'scanpay/core';
import { ScannerClient, type ScanRequest } from 'scanpay/sdk';
import { startGateway, type GatewayOptions } from 'scanpay/gateway';
import { Issuer, IssuerKeyRing, openStore } from 'scanpay/issuer';

const build: CoreBuild = 'scalar';
const core: Promise<WasmCryptoCore> = loadCore(undefined, { build });
const request: ScanRequest = { payload: '', amount: 1, currency: 'EUR', merchant: 'm' };
const start: (opts: GatewayOptions) => Promise<unknown> = startGateway;
export { core, request, start, ScannerClient, Issuer, IssuerKeyRing, openStore };
