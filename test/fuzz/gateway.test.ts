/**
 * Short fuzz run of the gateway, black box, against a real startGateway on a MemoryStore: the scanner
 * WebSocket frames (test/fuzz/targets/scanner-frames.ts) and the auth page's PIN POST
 * (test/fuzz/targets/page-post.ts). Each asserts its invariants on every case — the answer the protocol
 * prescribes, no card or session changed — and ends with a real payment the fuzzing must not have broken.
 */
import { describe, expect, it } from 'vitest';
import { fuzzPagePost } from './targets/page-post.ts';
import { fuzzScannerFrames, sendRawText } from './targets/scanner-frames.ts';
import { gatewayBench } from './targets/gateway-bench.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 3_000);

describe('fuzz (short): gateway', () => {
  it('scanner frames: the prescribed answer to every frame, nothing changed, the owner still pays', async () => {
    const report = await fuzzScannerFrames({ runs: RUNS });
    for (const outcome of ['BAD_FRAME', 'FRAME_TOO_LARGE', 'binary:BAD_FRAME', 'closed:over-16KiB', 'pong', 'auth-required', 'PAYLOAD_UNREADABLE', 'CARD_INVALID', 'SESSION_WRONG_SCANNER']) {
      expect(report.outcomes[outcome], outcome).toBeGreaterThan(0);
    }
  });

  it('page POST: a 4xx for every bad form, nothing changed, the owner still pays', async () => {
    const report = await fuzzPagePost({ runs: Math.ceil(RUNS / 2) });
    for (const status of ['403', '404', '409', '413', '415']) expect(report.outcomes[status], status).toBeGreaterThan(0);
  });

  // Known bug, issue 9 item 2 (test/fuzz/README.md, finding 2): a text frame that is not UTF-8 drops the TCP
  // connection (close 1006, no close frame) instead of getting BAD_FRAME as docs/protocol.md §8 says. This
  // starts failing once the transport answers BAD_FRAME (or a documented close code): then make it `it`
  // and accept that code here.
  it.fails('a text frame that is not UTF-8 gets BAD_FRAME (known bug: the socket is dropped)', async () => {
    const bench = await gatewayBench();
    try {
      const outcome = await sendRawText(bench.fx.gateway.scannerUrl, bench.fx.token, Uint8Array.of(0x7b, 0xff, 0x7d));
      expect(outcome).toBe('BAD_FRAME');
    } finally {
      await bench.close();
    }
  });
});
