/**
 * The batch exports leave nothing of their records behind (docs/core.md, Module contract): two fresh
 * instances fed different records end with byte-identical memory below heapBase() (the module's
 * constants and scratch), and each record is zeroed in place. A key, keystream, PAN, PIN or digest left
 * in any scratch would make the two instances differ. Both builds, every batch export, a batch size
 * that uses the 4-lane path and the scalar remainder.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CORE_SCALAR_WASM_PATH, CORE_WASM_PATH, DVD1_RECORD_SIZE, encodeDvd1Record } from '../../core/index.ts';
import { makeDvd1Records } from '../../bench/dvd1/records.ts';

type BatchExport = 'dvd1Batch' | 'dvd1BatchScalar' | 'dvd1OpenBatch';
type RawExports = { memory: WebAssembly.Memory; heapBase(): number } & Record<BatchExport, (records: number, count: number, out: number, statuses: number) => number>;

const COUNT = 11; // two 4-lane passes and a scalar remainder of 3

function runOnFreshInstance(path: string, run: BatchExport, seed: number): { moduleMemory: Uint8Array; recordsAfter: Uint8Array } {
  const raw = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path)), {}).exports as unknown as RawExports;
  raw.memory.grow(1);
  const base = raw.heapBase();
  const heap = new Uint8Array(raw.memory.buffer);
  makeDvd1Records(COUNT, { seed, badEvery: 3 }).forEach((r, i) => encodeDvd1Record(r, heap, base + i * DVD1_RECORD_SIZE));
  const out = base + COUNT * DVD1_RECORD_SIZE;
  raw[run](base, COUNT, out, out + COUNT * 48);
  return { moduleMemory: heap.slice(0, base), recordsAfter: heap.slice(base, out) };
}

describe.each([
  ['SIMD', CORE_WASM_PATH],
  ['scalar', CORE_SCALAR_WASM_PATH],
])('%s build: batch exports wipe their scratch and records', (_build, path) => {
  it.each(['dvd1Batch', 'dvd1BatchScalar', 'dvd1OpenBatch'] as const)('%s', (run) => {
    const a = runOnFreshInstance(path, run, 101);
    const b = runOnFreshInstance(path, run, 202);
    const differing = a.moduleMemory.reduce((n, byte, i) => n + (byte === b.moduleMemory[i] ? 0 : 1), 0);
    expect(differing, 'bytes below heapBase that depend on the records').toBe(0);
    expect(a.recordsAfter.every((byte) => byte === 0) && b.recordsAfter.every((byte) => byte === 0), 'records zeroed').toBe(true);
  });
});
