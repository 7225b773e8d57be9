/**
 * The scalar build beside the SIMD build: the same exports; no v128 op in the scalar module (WABT's
 * validator with SIMD disabled accepts it and rejects the SIMD one, so the check can tell them apart);
 * byte-identical DVD-1, open and 64-byte SHA-256 batches on the same records; the loader picks SIMD when
 * WebAssembly.validate accepts a v128 op and scalar when it does not; wasm-interp runs the scalar selftest.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CORE_SCALAR_WASM_PATH, CORE_WASM_PATH, DVD1_RECORD_SIZE, encodeDvd1Record, loadCore, loadCoreSync, pickCoreBuild } from '../../core/index.ts';
import { makeDvd1Records } from '../../bench/dvd1/records.ts';
import { describeEngine } from './describe-engine.ts';

const exportsOf = (path: string) => WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(path))).map((e) => `${e.name}:${e.kind}`).sort();
const hasTool = (tool: string) => spawnSync(tool, ['--version']).status === 0;

describe('scalar and SIMD builds', () => {
  afterEach(() => vi.restoreAllMocks());

  it('export the same names and kinds, and import nothing but env.abort', () => {
    expect(exportsOf(CORE_SCALAR_WASM_PATH)).toEqual(exportsOf(CORE_WASM_PATH));
    for (const path of [CORE_WASM_PATH, CORE_SCALAR_WASM_PATH]) {
      for (const i of WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(path)))) expect(`${i.module}.${i.name}`).toBe('env.abort');
    }
  });

  it('give identical DVD-1, open and SHA-256 batches on the same records, bad ones included', async () => {
    const simd = await loadCore(undefined, { build: 'simd' });
    const scalar = await loadCore(undefined, { build: 'scalar' });
    expect([simd.simdLanes, scalar.simdLanes]).toEqual([4, 1]);
    const records = makeDvd1Records(259, { seed: 77, badEvery: 4 });
    const packed = new Uint8Array(records.length * DVD1_RECORD_SIZE);
    records.forEach((r, i) => encodeDvd1Record(r, packed, i * DVD1_RECORD_SIZE));
    const a = simd.dvd1BatchPacked(packed, records.length);
    const b = scalar.dvd1BatchPacked(packed, records.length);
    expect(Buffer.from(b.cryptograms).equals(Buffer.from(a.cryptograms))).toBe(true);
    expect(Buffer.from(b.statuses).equals(Buffer.from(a.statuses))).toBe(true);
    expect(b.passed).toBe(a.passed);
    expect(a.passed).toBeGreaterThan(0);
    expect(a.passed).toBeLessThan(records.length);
    const oa = simd.dvd1OpenBatchPacked(packed, records.length);
    const ob = scalar.dvd1OpenBatchPacked(packed, records.length);
    expect(Buffer.from(ob.opened).equals(Buffer.from(oa.opened)) && Buffer.from(ob.statuses).equals(Buffer.from(oa.statuses))).toBe(true);
  });

  it('the loader picks SIMD when WebAssembly.validate accepts a v128 op, else scalar', () => {
    expect(pickCoreBuild()).toBe('simd'); // Node 20 has wasm SIMD
    expect(loadCoreSync().simdLanes).toBe(4);
    vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    expect(pickCoreBuild()).toBe('scalar');
    expect(loadCoreSync().simdLanes).toBe(1);
  });
});

const wabt = hasTool('wasm-validate') && hasTool('wasm-interp') && hasTool('wasm-objdump') ? null : 'wasm-validate / wasm-interp are not installed (apt-get install wabt)';
describeEngine('scalar build under WABT', wabt, () => {
  it('holds no v128 op: it validates with SIMD disabled, and the SIMD build does not', () => {
    expect(spawnSync('wasm-validate', ['--disable-simd', CORE_SCALAR_WASM_PATH], { encoding: 'utf8' }).status).toBe(0);
    const simd = spawnSync('wasm-validate', ['--disable-simd', CORE_WASM_PATH], { encoding: 'utf8' });
    expect(simd.status).not.toBe(0);
    // and opcode by opcode: the disassembly of the scalar build names no SIMD instruction
    const SIMD_OP = /\b(v128|[if](8x16|16x8|32x4|64x2))\./;
    const ops = (path: string) => execFileSync('wasm-objdump', ['-d', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(ops(CORE_SCALAR_WASM_PATH)).not.toMatch(SIMD_OP);
    expect(ops(CORE_WASM_PATH)).toMatch(SIMD_OP);
  });

  it('wasm-interp runs its selftest to 0', () => {
    // --run-all-exports calls every export with zero arguments; a trap in a later one still leaves the selftest line
    const r = spawnSync('wasm-interp', [CORE_SCALAR_WASM_PATH, '--disable-simd', '--run-all-exports'], { encoding: 'utf8', timeout: 50_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).toContain('selftest() => i32:0');
  }, 60_000);
});
