/**
 * One-off experiment (issue 25 item 5): where the DVD-1 object API's price over the packed path goes, at batch
 * 256. Interleaved rounds, process CPU time per record, medians of the per-round ratios to the packed path:
 *   packed      core.dvd1BatchPacked on records packed beforehand (bench/core.bench.ts's "pre-packed")
 *   object      core.dvd1Batch (checks and packs each record's 11 arrays into WASM memory)
 *   twoPass     every record checked first, then every record copied, then the packed path
 *   touchAhead  one pass, touching record i+2's arrays before packing record i, then the packed path
 * over a pool of 4,096 records cycled batch by batch (core.bench.ts's pool: a batch's arrays are cold) and
 * over a pool of 256 (the same batch every call: hot).
 *   npx tsx bench/object-api-cost.ts [rounds]
 */
import { loadavg } from 'node:os';
import { DVD1_RECORD_SIZE, encodeDvd1Record, loadCore } from '../core/index.ts';
import type { Dvd1Record } from '../core/types.ts';
import { makeDvd1Records } from './dvd1/records.ts';

const core = await loadCore();
const N = 256;
const ROUNDS = Number(process.argv[2] ?? 40);
const scratch = new Uint8Array(N * DVD1_RECORD_SIZE);
const ok = (v: unknown, len: number) => v instanceof Uint8Array && v.length === len;
function check(r: Dvd1Record, refs: Uint8Array[], b: number): void {
  const f = [r.kek, r.hdr, r.n1, r.c1, r.n2, r.c2, r.storedBasicKey, r.storedPvv, r.pin, r.sid, r.merchant];
  const lengths = [32, 8, 12, 32, 12, 48, 32, 32, 4, 16, 16];
  for (let k = 0; k < 11; k++) {
    if (!ok(f[k], lengths[k]!)) throw new Error('bad field');
    refs[b + k] = f[k]!;
  }
}
const OFFSETS = [0, 32, 40, 52, 84, 96, 144, 176, 208, 212, 228];
const touch = (r: Dvd1Record) => r.kek.length + r.hdr.length + r.n1.length + r.c1.length + r.n2.length + r.c2.length + r.storedBasicKey.length + r.storedPvv.length + r.pin.length + r.sid.length + r.merchant.length;
let sink = 0;

function run(poolSize: number): void {
  const pool = makeDvd1Records(poolSize, { seed: 1 });
  const batches = Array.from({ length: poolSize / N }, (_, b) => pool.slice(b * N, (b + 1) * N));
  const packed = batches.map((bs) => {
    const p = new Uint8Array(N * DVD1_RECORD_SIZE);
    bs.forEach((r, i) => encodeDvd1Record(r, p, i * DVD1_RECORD_SIZE));
    return p;
  });
  const variants: Record<string, (i: number) => unknown> = {
    packed: (i) => core.dvd1BatchPacked(packed[i]!, N),
    object: (i) => core.dvd1Batch(batches[i]!),
    twoPass: (i) => {
      const bs = batches[i]!;
      const refs = new Array<Uint8Array>(N * 11);
      for (let j = 0; j < N; j++) check(bs[j]!, refs, j * 11);
      for (let j = 0; j < N; j++) for (let k = 0; k < 11; k++) scratch.set(refs[j * 11 + k]!, j * DVD1_RECORD_SIZE + OFFSETS[k]!);
      return core.dvd1BatchPacked(scratch, N);
    },
    touchAhead: (i) => {
      const bs = batches[i]!;
      for (let j = 0; j < N; j++) {
        if (j + 2 < N) sink += touch(bs[j + 2]!);
        encodeDvd1Record(bs[j]!, scratch, j * DVD1_RECORD_SIZE);
      }
      return core.dvd1BatchPacked(scratch, N);
    },
  };
  const cpuPerRecord = (f: (i: number) => unknown, calls: number) => {
    const c0 = process.cpuUsage();
    for (let n = 0; n < calls; n++) f(n % batches.length);
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / (calls * N);
  };
  for (const f of Object.values(variants)) cpuPerRecord(f, 64);
  const us: Record<string, number[]> = {};
  const rel: Record<string, number[]> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, f] of Object.entries(variants).sort(() => Math.random() - 0.5)) (us[k] ??= []).push(cpuPerRecord(f, 16));
    for (const k of Object.keys(variants)) (rel[k] ??= []).push(us[k]!.at(-1)! / us.packed!.at(-1)!);
  }
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
  console.log(`pool of ${poolSize} records (${poolSize === N ? 'hot: the same batch every call' : 'cold: cycled batch by batch'}), load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}:`);
  for (const k of Object.keys(variants)) console.log(`  ${k.padEnd(10)} ${med(us[k]!).toFixed(2)} µs/record, ÷ packed ${med(rel[k]!).toFixed(2)}`);
}

run(4096);
run(256);
if (sink < 0) console.log(sink);
