/**
 * The transport as docs/protocol.md §6 says: a scanner that stops reading is disconnected with close code
 * 1008 (not fed answers it never sees), and a text frame that is not UTF-8 fails only its own connection
 * (RFC 6455 §8.1; uWS drops it without a close frame, so the client sees 1006). Either way the gateway
 * keeps serving everyone else.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MemoryStore } from '../../issuer/store/index.ts';
import { SUBPROTOCOL } from '../../protocol/messages.ts';
import { PIN, startGatewayFixture, uniqueDevice, type GatewayFixture } from '../support/gateway-fixture.ts';
import { sendRawText } from '../fuzz/targets/scanner-frames.ts';

describe('transport limits', () => {
  let fx: GatewayFixture;
  beforeAll(async () => {
    fx = await startGatewayFixture({ store: new MemoryStore(), gateway: { framesPerSecond: 1_000_000, burst: 1_000_000, maxBackpressureBytes: 16 * 1024 } });
  });
  afterAll(async () => {
    await fx?.close();
  });

  /** Everyone else still pays. */
  async function stillServes(): Promise<void> {
    const card = await fx.issue();
    const s = await fx.scanner();
    expect(await s.pin((await s.open(card.payloadText, 100)).session, PIN)).toMatchObject({ outcome: 'approved' });
  }

  it('a scanner that never reads is disconnected with 1008 once its outbound queue is full', async () => {
    const device = uniqueDevice('deaf');
    const ws = new WebSocket(fx.gateway.scannerUrl, SUBPROTOCOL, { headers: { authorization: `Bearer ${fx.token(device)}` }, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve()); // welcome
      ws.once('error', reject);
    });
    const socket = (ws as unknown as { _socket: Socket })._socket;
    socket.pause(); // stop reading: the gateway's answers pile up in the kernel buffers, then in uWS's queue
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const bad = JSON.stringify({ v: 1, type: 'pin', id: 'r1', session: 'not-a-session', pin: '1' }); // answered BAD_FRAME, ~120 B
    let sent = 0;
    // enough answers to fill loopback's socket buffers (several MB) and then the gateway's 16 KiB queue
    for (; sent < 120_000 && ws.readyState === WebSocket.OPEN; sent++) {
      ws.send(bad);
      if (sent % 2_000 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    socket.resume(); // read what was queued, up to the close frame
    const code = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 15_000))]);
    console.log(`non-reading scanner: sent ${sent} frames without reading; the gateway closed it with ${code}`);
    expect(code).toBe(1008);
    await stillServes();
  }, 60_000);

  it('a text frame that is not UTF-8 fails only its own connection (no answer, close 1006)', async () => {
    expect(await sendRawText(fx.gateway.scannerUrl, fx.token, Uint8Array.of(0x7b, 0xff, 0x7d))).toBe('closed 1006');
    await stillServes();
  });
});
