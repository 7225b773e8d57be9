/**
 * Request ids on one connection (docs/protocol.md §4, §6): an id already in use by an outstanding request
 * is refused with BAD_FRAME (the first request is answered normally), at most 32 requests may be
 * outstanding per connection (past it BUSY, with the id), and FRAME_TOO_LARGE names the frame's id when
 * its text shows one. The pool's batch window is held open for 300 ms so that requests stay outstanding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../issuer/store/index.ts';
import type { ErrorFrame, GatewayFrame } from '../../protocol/messages.ts';
import { MAX_OUTSTANDING_PER_CONNECTION } from '../../gateway/scanners/scanner-hub.ts';
import { MERCHANT, startGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.ts';

describe('request ids on a connection', () => {
  let fx: GatewayFixture;
  beforeAll(async () => {
    fx = await startGatewayFixture({
      store: new MemoryStore(),
      gateway: { batch: { maxItems: 64, windowMs: 300 }, framesPerSecond: 100, burst: 100 },
    });
  });
  afterAll(async () => {
    await fx?.close();
  });

  const scanFrame = (id: string, payload: string) => ({ v: 1, type: 'scan', id, payload, amount: 100, currency: 'EUR', merchant: MERCHANT });

  it('a second request with an outstanding id gets BAD_FRAME; the first is answered; the id is free again after', async () => {
    const card = await fx.issue();
    const s = await fx.scanner();
    s.send(scanFrame('dup', card.payloadText));
    s.send(scanFrame('dup', card.payloadText));
    const answers = [await s.answer('dup'), await s.answer('dup')];
    const refused = answers.filter((a) => a.type === 'error');
    expect(refused).toEqual([{ v: 1, type: 'error', id: 'dup', code: 'BAD_FRAME', message: '/id: in use by an outstanding request on this connection; use a fresh id' }]);
    expect(answers.filter((a) => a.type === 'auth-required')).toHaveLength(1);
    // once answered, the id may be used again; a ping with an outstanding id is refused the same way
    s.send(scanFrame('dup', card.payloadText));
    s.send({ v: 1, type: 'ping', id: 'dup' });
    const again = [await s.answer('dup'), await s.answer('dup')];
    expect(again.map((a) => (a.type === 'error' ? a.code : a.type)).sort()).toEqual(['BAD_FRAME', 'auth-required']);
    expect(s.drain()).toEqual([]);
  });

  it(`past ${MAX_OUTSTANDING_PER_CONNECTION} outstanding requests, BUSY with the id; the others are answered`, async () => {
    const card = await fx.issue();
    const s = await fx.scanner();
    const ids = Array.from({ length: MAX_OUTSTANDING_PER_CONNECTION + 8 }, (_, i) => `q${i}`);
    for (const id of ids) s.send(scanFrame(id, card.payloadText));
    const answers = await Promise.all(ids.map((id) => s.answer(id)));
    const busy = answers.filter((a): a is ErrorFrame => a.type === 'error' && a.code === 'BUSY');
    expect(answers.filter((a) => a.type === 'auth-required')).toHaveLength(MAX_OUTSTANDING_PER_CONNECTION);
    expect(busy.map((b) => b.id)).toEqual(ids.slice(MAX_OUTSTANDING_PER_CONNECTION));
    expect(busy[0].message).toContain(`at most ${MAX_OUTSTANDING_PER_CONNECTION} requests outstanding`);
    // the bound is per connection and frees as answers go out
    expect(await s.scan(card.payloadText, 100)).toMatchObject({ type: 'auth-required' });
  });

  it('FRAME_TOO_LARGE carries the id when the text shows one, null when not', async () => {
    const s = await fx.scanner();
    const cases: [frame: string, id: string | null][] = [
      [JSON.stringify({ v: 1, type: 'ping', id: 'big-1', pad: 'x'.repeat(3_000) }), 'big-1'],
      [JSON.stringify({ pad: 'x'.repeat(10_000), v: 1, type: 'scan', id: 'big-2' }), 'big-2'], // id after 10 KB: still read
      [JSON.stringify({ v: 1, type: 'ping', pad: 'x'.repeat(3_000) }), null],
      [JSON.stringify({ v: 1, type: 'ping', id: 'not an id!', pad: 'x'.repeat(3_000) }), null],
      [`{"id":"trunc-3",${'x'.repeat(4_000)}`, 'trunc-3'], // not JSON at all: the id is still readable
    ];
    for (const [frame, id] of cases) {
      s.send(frame);
      const answer = await s.next<GatewayFrame>();
      expect(answer).toEqual({ v: 1, type: 'error', id, code: 'FRAME_TOO_LARGE', message: 'frames are at most 2048 bytes' });
    }
    expect(s.isOpen).toBe(true);
  });
});
