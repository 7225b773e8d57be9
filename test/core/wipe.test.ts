/**
 * The batch exports leave nothing of their records behind (docs/core.md, Module contract): two fresh
 * instances fed different records end with byte-identical memory below heapBase() (the module's
 * constants and scratch), and each record is zeroed in place. A key, keystream, PAN, PIN or digest left
 * in any scratch would make the two instances differ. Both builds, every batch export, a batch size
 * that uses the 4-lane path and the scalar remainder. The same for sha512 and ed25519Verify, whose inputs
 * are left in place (caller memory), across different messages, keys and verdicts.
 */
import { randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CORE_SCALAR_WASM_PATH, CORE_WASM_PATH, DVD1_RECORD_SIZE, encodeDvd1CodeRecord, encodeDvd1Record } from '../../core/index.ts';
import { makeDvd1Records } from '../../bench/dvd1/records.ts';
import { CODE_TAMPERS, makeCodeCases } from '../../bench/dvd1/code-records.ts';
import { ed25519PrivateKey, ed25519RawPublicKey } from '../support/ed25519-keys.ts';

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

type CodeExports = {
  memory: WebAssembly.Memory; heapBase(): number;
  dvd1CodeBatch(records: number, count: number, out: number, statuses: number): number;
  dvd1EnrolBatch(records: number, ids: number, count: number, out: number, statuses: number): number;
};

/** The code and enrolment batches, on a fresh instance each: the same wipe contract as the batches above. */
function runCodeOnFreshInstance(path: string, run: 'dvd1CodeBatch' | 'dvd1EnrolBatch', seed: number): { moduleMemory: Uint8Array; recordsAfter: Uint8Array } {
  const raw = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path)), {}).exports as unknown as CodeExports;
  raw.memory.grow(1);
  const base = raw.heapBase();
  const heap = new Uint8Array(raw.memory.buffer);
  const out = base + COUNT * DVD1_RECORD_SIZE;
  if (run === 'dvd1CodeBatch') {
    makeCodeCases(COUNT, { seed, withPin: seed % 2 === 0, tamper: (i) => (i % 3 === 2 ? CODE_TAMPERS[i % CODE_TAMPERS.length] : undefined) })
      .forEach((c, i) => encodeDvd1CodeRecord(c.record, heap, base + i * DVD1_RECORD_SIZE));
    raw.dvd1CodeBatch(base, COUNT, out, out + COUNT * 32);
  } else {
    makeDvd1Records(COUNT, { seed, badEvery: 3 }).forEach((r, i) => encodeDvd1Record(r, heap, base + i * DVD1_RECORD_SIZE));
    const ids = out + COUNT * 64;
    heap.set(randomBytes(COUNT * 16), ids);
    raw.dvd1EnrolBatch(base, ids, COUNT, out, out + COUNT * 48);
  }
  return { moduleMemory: heap.slice(0, base), recordsAfter: heap.slice(base, out) };
}

describe.each([
  ['SIMD', CORE_WASM_PATH],
  ['scalar', CORE_SCALAR_WASM_PATH],
])('%s build: the code and enrolment batches wipe their scratch and records', (_build, path) => {
  it.each(['dvd1CodeBatch', 'dvd1EnrolBatch'] as const)('%s', (run) => {
    const a = runCodeOnFreshInstance(path, run, 101);
    const b = runCodeOnFreshInstance(path, run, 202);
    const differing = a.moduleMemory.reduce((n, byte, i) => n + (byte === b.moduleMemory[i] ? 0 : 1), 0);
    expect(differing, 'bytes below heapBase that depend on the records').toBe(0);
    expect(a.recordsAfter.every((byte) => byte === 0) && b.recordsAfter.every((byte) => byte === 0), 'records zeroed').toBe(true);
  });
});

type HashExports = { memory: WebAssembly.Memory; heapBase(): number; sha512(msg: number, len: number, out: number): void; ed25519Verify(pub: number, sig: number, msg: number, len: number): number };

/** One call on a fresh instance; returns the memory below heapBase afterwards and the call's result. */
function callOnFreshInstance(path: string, call: (raw: HashExports, heap: Uint8Array, base: number) => number): { moduleMemory: Uint8Array; result: number } {
  const raw = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path)), {}).exports as unknown as HashExports;
  raw.memory.grow(1);
  const base = raw.heapBase();
  const heap = new Uint8Array(raw.memory.buffer);
  const result = call(raw, heap, base);
  return { moduleMemory: heap.slice(0, base), result };
}

function signed(message: Uint8Array): { pub: Uint8Array; sig: Uint8Array } {
  const privateKey = ed25519PrivateKey();
  return { pub: ed25519RawPublicKey(privateKey), sig: new Uint8Array(sign(null, message, privateKey)) };
}

describe.each([
  ['SIMD', CORE_WASM_PATH],
  ['scalar', CORE_SCALAR_WASM_PATH],
])('%s build: sha512 and ed25519Verify wipe their scratch', (_build, path) => {
  it('sha512 of different messages leaves the same module memory', () => {
    const hash = (msg: Uint8Array) => callOnFreshInstance(path, (raw, heap, base) => {
      heap.set(msg, base);
      raw.sha512(base, msg.length, base + msg.length);
      return 0;
    });
    const [a, b] = [hash(new Uint8Array(randomBytes(300))), hash(new Uint8Array(randomBytes(77)))];
    expect(a.moduleMemory.reduce((n, byte, i) => n + (byte === b.moduleMemory[i] ? 0 : 1), 0)).toBe(0);
  });

  it('ed25519Verify of different keys, signatures and messages, accepted or not, leaves the same module memory', () => {
    const verify = (pub: Uint8Array, sig: Uint8Array, msg: Uint8Array) => callOnFreshInstance(path, (raw, heap, base) => {
      heap.set(pub, base);
      heap.set(sig, base + 32);
      heap.set(msg, base + 96);
      return raw.ed25519Verify(base, base + 32, base + 96, msg.length);
    });
    const [m1, m2] = [new Uint8Array(randomBytes(200)), new Uint8Array(randomBytes(33))];
    const [s1, s2] = [signed(m1), signed(m2)];
    const runs = [verify(s1.pub, s1.sig, m1), verify(s2.pub, s2.sig, m2), verify(s2.pub, s1.sig, m2)];
    expect(runs.map((r) => r.result)).toEqual([1, 1, 0]);
    for (const other of runs.slice(1)) {
      expect(runs[0]!.moduleMemory.reduce((n, byte, i) => n + (byte === other.moduleMemory[i] ? 0 : 1), 0), 'bytes below heapBase that depend on the inputs').toBe(0);
    }
  });
});
