/**
 * The SDK's side of "holder device" (protocol v1.4, docs/protocol.md §11): `scan` resolves with `holderUrl` when the
 * gateway says `pinEntry: 'holder-device'` (null otherwise, and for an older gateway that says nothing), `submitPin`
 * refuses such a session's PIN without sending a frame, and the holder URL renders as a QR code (SVG, terminal)
 * that decodes back to the URL. Against the fake gateway (test/support/fake-gateway.ts: merchant "holder-shop").
 */
import { randomBytes } from 'node:crypto';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceSecret } from '../../protocol/scanner-token.ts';
import { ScannerClient, holderQrSvg, holderQrTerminal, isScannerError } from '../../sdk/index.ts';
import { FAKE_PIN, FakeGateway, HOLDER_DEVICE_MERCHANT } from '../support/fake-gateway.ts';

const fleetKey = new Uint8Array(randomBytes(32));
const DEVICE = 'till-0042';
let gateway: FakeGateway;
let client: ScannerClient;

beforeAll(async () => {
  gateway = await FakeGateway.start({ fleetKey });
  client = await ScannerClient.connect({ url: gateway.url, deviceId: DEVICE, secret: deviceSecret(fleetKey, DEVICE), timeoutMs: 2_000 });
});
afterAll(async () => {
  await client?.close();
  await gateway?.close();
});

describe('ScannerClient and a holder-device session', () => {
  it('scan gives holderUrl; submitPin rejects PIN_ENTRY_HOLDER_DEVICE and sends nothing; waitForResult gets the page\'s push', async () => {
    const auth = await client.scan({ payload: 'CARD-PAYLOAD', amount: 700, currency: 'EUR', merchant: HOLDER_DEVICE_MERCHANT });
    expect(auth).toMatchObject({ pinEntry: 'holder-device', holderUrl: auth.url });
    const sent = gateway.received.length;
    const refused = await client.submitPin(auth.session, FAKE_PIN).catch((e: unknown) => e);
    expect(isScannerError(refused, 'PIN_ENTRY_HOLDER_DEVICE')).toBe(true);
    expect((refused as { layer: string }).layer).toBe('protocol');
    expect(gateway.received.length).toBe(sent); // no frame left the client
    const waiting = client.waitForResult(auth.session, 2_000);
    gateway.payOnPage(auth.session);
    expect(await waiting).toMatchObject({ outcome: 'approved', session: auth.session });
  });

  it('another merchant\'s session has no holderUrl and takes the PIN as before', async () => {
    const auth = await client.scan({ payload: 'CARD-PAYLOAD', amount: 700, currency: 'EUR', merchant: 'cafe-7' });
    expect(auth.holderUrl).toBeNull();
    expect(await client.submitPin(auth.session, FAKE_PIN)).toMatchObject({ outcome: 'approved' });
  });
});

describe('holderQrSvg, holderQrTerminal', () => {
  const url = `https://pay.example/auth/${'ab'.repeat(16)}?t=${'c'.repeat(64)}`;

  it('render the URL: an SVG document, and lines of half blocks for a terminal, of the same QR code', async () => {
    const svg = await holderQrSvg(url);
    expect(svg).toMatch(/^<svg [^>]*viewBox="0 0 (\d+) \1"/);
    const size = QRCode.create(url, { errorCorrectionLevel: 'M' }).modules.size;
    expect(svg).toContain(`viewBox="0 0 ${size + 8} ${size + 8}"`); // the code itself, with a margin of 4
    const terminal = await holderQrTerminal(url);
    expect(terminal.split('\n').length).toBeGreaterThanOrEqual(Math.ceil(size / 2));
    expect(terminal).toMatch(/[▀▄█]/);
  });

  it('refuse what is not an http(s) URL, before rendering anything', async () => {
    for (const bad of ['', 'not a url', 'javascript:alert(1)', 'ws://gw/scanner', 'x'.repeat(3000), 42, null]) {
      expect(() => holderQrSvg(bad as string), String(bad).slice(0, 20)).toThrow(RangeError);
      expect(() => holderQrTerminal(bad as string), String(bad).slice(0, 20)).toThrow(RangeError);
    }
  });
});
