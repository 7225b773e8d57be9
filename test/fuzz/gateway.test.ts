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
    for (const status of ['400', '403', '404', '413', '415']) expect(report.outcomes[status], status).toBeGreaterThan(0);
  });

  // Finding 2 (test/fuzz/README.md): uWS fails a connection whose text frame is not UTF-8 (RFC 6455 §8.1)
  // without a close frame; docs/protocol.md §6 now documents that (close 1006), and only that connection ends.
  it('a text frame that is not UTF-8 fails its connection as documented (close 1006), with no answer', async () => {
    const bench = await gatewayBench();
    try {
      const outcome = await sendRawText(bench.fx.gateway.scannerUrl, bench.fx.token, Uint8Array.of(0x7b, 0xff, 0x7d));
      expect(outcome).toBe('closed 1006');
    } finally {
      await bench.close();
    }
  });
});
