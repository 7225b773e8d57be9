// Run with plain `node`: pays the card payload in PAYLOAD at the gateway in GATEWAY_WS with the scanner SDK.
import { ScannerClient } from 'scanpay/sdk';

const env = process.env;
const client = await ScannerClient.connect({ url: env.GATEWAY_WS, deviceId: env.DEVICE_ID, secret: env.DEVICE_SECRET });
try {
  const auth = await client.scan({ payload: env.PAYLOAD, amount: Number(env.AMOUNT), currency: env.CURRENCY, merchant: 'pkg-shop' });
  const result = await client.submitPin(auth.session, env.PIN);
  console.log(JSON.stringify({ maskedPan: auth.maskedPan, outcome: result.outcome, reason: result.reason, receipt: result.receipt !== null }));
} finally {
  await client.close();
}
