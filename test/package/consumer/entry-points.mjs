// Run with plain `node` in a folder where the scanpay tarball was installed with --omit=dev (no tsx, no
// TypeScript): imports every entry point, runs the core in both builds, starts and stops a gateway.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import * as core from 'scanpay/core';
import * as sdk from 'scanpay/sdk';
import * as gateway from 'scanpay/gateway';
import * as issuer from 'scanpay/issuer';

const require = createRequire(import.meta.url);
let tsx = 'absent';
try {
  require.resolve('tsx');
  tsx = 'present';
} catch {
  // expected: tsx is a dev dependency of scanpay, so --omit=dev leaves it out
}

const simd = await core.loadCore(undefined, { build: 'simd' });
const scalar = await core.loadCore(undefined, { build: 'scalar' });
const auto = await core.loadCore();
const abc = new TextEncoder().encode('abc');

const store = new issuer.MemoryStore();
const keyRing = issuer.IssuerKeyRing.generate();
const fleetKey = randomBytes(32);
const card = await new issuer.Issuer({ core: auto, store, keyRing }).issueCard({ pin: '1234', limit: 5000, currency: 'EUR' });
const gw = await gateway.startGateway({ store, keyRing, fleetKey, port: 0, threads: 1, logger: gateway.createLogger({ level: 'silent' }) });
const client = await sdk.ScannerClient.connect({ url: gw.scannerUrl, deviceId: 'pkg-entry', secret: gateway.deviceSecret(fleetKey, 'pkg-entry') });
const auth = await client.scan({ payload: card.payloadText, amount: 100, currency: 'EUR', merchant: 'pkg-shop' });
const paid = await client.submitPin(auth.session, '1234');
await client.close();
await gw.close();
await store.close();

console.log(JSON.stringify({
  tsx,
  exports: {
    core: Object.keys(core).sort(),
    sdk: Object.keys(sdk).sort(),
    gateway: Object.keys(gateway).sort(),
    issuer: Object.keys(issuer).sort(),
  },
  lanes: { simd: simd.simdLanes, scalar: scalar.simdLanes, auto: auto.simdLanes },
  selftest: [simd.selftest(), scalar.selftest()],
  sha256abc: [Buffer.from(simd.sha256(abc)).toString('hex'), Buffer.from(scalar.sha256(abc)).toString('hex')],
  inMemoryPayment: paid.outcome,
}));
