/**
 * The suite's secret sink (test/support/secret-sink.ts) catches what it must — a PAN whole or in groups,
 * key bytes in hex or base64, a PIN field — and nothing that merely looks like one, so the guard on every
 * test file means something. Then a real gateway's log, frames, pages and metrics, with a card paid, a
 * wrong PIN and illegal scans, hold none of the registered secrets.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../issuer/store/index.ts';
import { PIN, WRONG_PIN, postPin, startGatewayFixture } from '../support/gateway-fixture.ts';
import { inspectOutput, registerSecret, takeLeaks } from '../support/secret-sink.ts';

describe('secret sink', () => {
  it('records a PAN, key bytes and a PIN field wherever they appear, and forgets them once taken', () => {
    const key = new Uint8Array(randomBytes(32));
    registerSecret('a PAN', '4000001234567899');
    registerSecret('a key', key);
    inspectOutput('log', '{"msg":"card 4000001234567899"}');
    inspectOutput('log', 'card 4000 0012 3456 7899');
    inspectOutput('frame', `{"k":"${Buffer.from(key).toString('hex')}"}`);
    inspectOutput('page', `<p>${Buffer.from(key).toString('base64')}</p>`);
    inspectOutput('log', '{"pin":"1234"}');
    const leaks = takeLeaks();
    expect(leaks.filter((l) => l === 'log: card …7899: whole')).toHaveLength(2); // plain and grouped
    expect(leaks).toEqual(expect.arrayContaining(['frame: a key', 'page: a key', 'log: a PIN field']));
    inspectOutput('metrics', 'process_cpu 0.000001234 bytes 1234567899 other 12345678');
    expect(takeLeaks()).toEqual(['metrics: card …7899: a run of 8+ digits']); // the account digits 12345678
    inspectOutput('log', '{"card":"•••• •••• •••• 7899","amount":1250,"pin":"[redacted]"}');
    expect(takeLeaks()).toEqual([]);
  });

  it('finds nothing in a real gateway\'s output after payments, declines and illegal scans', async () => {
    const fx = await startGatewayFixture({ store: new MemoryStore() });
    try {
      const card = await fx.issue();
      const s = await fx.scanner();
      expect(await s.pin((await s.open(card.payloadText, 100)).session, WRONG_PIN)).toMatchObject({ reason: 'PIN_WRONG' });
      expect(await s.pin((await s.open(card.payloadText, 100)).session, PIN)).toMatchObject({ outcome: 'approved' });
      const page = await s.open(card.payloadText, 100);
      expect((await postPin(page.url, PIN)).status).toBe(200);
      await s.scan('not a card', 100);
      await s.scan(`${card.payloadText.slice(0, -1)}A`, 100);
      await fx.metrics();
      expect(takeLeaks()).toEqual([]);
    } finally {
      await fx.close();
    }
  });
});
