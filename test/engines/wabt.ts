/**
 * WABT's interpreter as the seventh engine. `wasm-interp` runs one module and can only call exports
 * with no arguments on an empty memory (it checks selftest: test/core/interp.test.ts), so the jobs run
 * in its sibling `spectest-interp` (the same wabt::interp engine, Debian package `wabt`): a spec-test
 * script loads the shipped .wasm unchanged as module "core", then a driver module generated here (WAT,
 * `wat2wasm`) that imports the core's memory and exports. Each job is one driver function: it copies the
 * job's inputs from a passive data segment to heapBase() (memory.init), calls the core's export and
 * returns the result as i32 or i64 values, which the interpreter prints. Lengths the wrapper would
 * refuse are answered here, as native/probe.c does, without calling the core.
 *
 * Answers the jobs of WABT_JOB_KINDS (test/engines/probe.js's format) after the selftest, abi and
 * lanes lines.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORE_SCALAR_WASM_PATH, CORE_WASM_PATH, type CoreBuild } from '../../core/index.ts';

export const WABT_JOB_KINDS: ReadonlySet<string> = new Set(['sha256', 'sha512', 'ed25519']);

export function wabtMissing(): string | null {
  for (const tool of ['spectest-interp', 'wat2wasm']) {
    if (spawnSync(tool, ['--version']).status !== 0) return `${tool} is not installed (apt-get install wabt)`;
  }
  return null;
}

export function wabtVersion(): string {
  return spawnSync('spectest-interp', ['--version'], { encoding: 'utf8' }).stdout.trim();
}

/** Indexes (among the job lines) of the jobs WABT answers. */
export function wabtJobIndexes(jobs: string): number[] {
  return jobLines(jobs).flatMap((line, i) => (WABT_JOB_KINDS.has(line.split(' ')[0]!) ? [i] : []));
}

const jobLines = (jobs: string): string[] => jobs.split('\n').map((l) => l.trim()).filter((l) => l !== '');
const unhex = (s: string): Uint8Array => (s === '-' ? new Uint8Array(0) : new Uint8Array(Buffer.from(s, 'hex')));
const align16 = (n: number): number => (n + 15) & ~15;
const watString = (b: Uint8Array): string => `"${Array.from(b, (byte) => `\\${byte.toString(16).padStart(2, '0')}`).join('')}"`;

/** One job as a driver function, or an answer given at the boundary. */
type Planned = { answer: string } | { data: Uint8Array; results: 'i32' | 'i64'; count: number; body: string; decode(values: bigint[]): string };

function digestJob(exportName: 'sha256' | 'sha512', msg: Uint8Array): Planned {
  const size = exportName === 'sha256' ? 32 : 64;
  const out = align16(msg.length);
  const loads = Array.from({ length: size / 8 }, (_, i) => `(i64.load offset=${out + 8 * i} (local.get $base))`).join(' ');
  return {
    data: msg, results: 'i64', count: size / 8,
    body: `(call $ensure (i32.add (local.get $base) (i32.const ${out + size})))
    (memory.init $data (local.get $base) (i32.const 0) (i32.const ${msg.length}))
    (call $${exportName} (local.get $base) (i32.const ${msg.length}) (i32.add (local.get $base) (i32.const ${out})))
    ${loads}`,
    decode: (values) => Buffer.concat(values.map((v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); return b; })).toString('hex'),
  };
}

function plan(line: string): Planned {
  const [op, ...a] = line.split(' ');
  switch (op) {
    case 'sha256':
    case 'sha512':
      return digestJob(op, unhex(a[0]!));
    case 'ed25519': {
      const [key, sig, msg] = [unhex(a[0]!), unhex(a[1]!), unhex(a[2]!)];
      if (key.length !== 32 || sig.length !== 64) return { answer: 'error BAD_LENGTH' };
      const data = new Uint8Array(96 + msg.length);
      data.set(key);
      data.set(sig, 32);
      data.set(msg, 96);
      return {
        data, results: 'i32', count: 1,
        body: `(call $ensure (i32.add (local.get $base) (i32.const ${data.length})))
    (memory.init $data (local.get $base) (i32.const 0) (i32.const ${data.length}))
    (call $ed25519Verify (local.get $base) (i32.add (local.get $base) (i32.const 32)) (i32.add (local.get $base) (i32.const 96)) (i32.const ${msg.length}))`,
        decode: (values) => String(values[0]),
      };
    }
    default:
      throw new Error(`wabt: no driver for job ${op}`);
  }
}

function driverWat(jobs: Array<{ index: number; planned: Planned }>): string {
  const funcs: string[] = [];
  const data: string[] = [];
  for (const { index, planned } of jobs) {
    if ('answer' in planned) continue;
    data.push(`  (data $d${index} ${watString(planned.data)})`);
    const results = Array(planned.count).fill(planned.results).join(' ');
    funcs.push(`  (func (export "j${index}") (result ${results}) (local $base i32)
    (local.set $base (call $heapBase))
    ${planned.body.replaceAll('$data', `$d${index}`)})`);
  }
  return `(module
  (import "core" "memory" (memory 1))
  (import "core" "heapBase" (func $heapBase (result i32)))
  (import "core" "sha256" (func $sha256 (param i32 i32 i32)))
  (import "core" "sha512" (func $sha512 (param i32 i32 i32)))
  (import "core" "ed25519Verify" (func $ed25519Verify (param i32 i32 i32 i32) (result i32)))
${data.join('\n')}
  ;; grows the core's memory to hold \`end\` bytes
  (func $ensure (param $end i32)
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16)) (memory.size)))))))
${funcs.join('\n')})
`;
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout.slice(-2000)}`);
  return r.stdout;
}

/** Runs the supported jobs of `jobs` on a build in spectest-interp; returns the answer lines (selftest, abi, lanes, then one per job). */
export function runWabtJobs(build: CoreBuild, jobs: string): string[] {
  const lines = jobLines(jobs);
  const planned = wabtJobIndexes(jobs).map((index) => ({ index, planned: plan(lines[index]!) }));
  const dir = mkdtempSync(join(tmpdir(), 'scanpay-wabt-'));
  try {
    copyFileSync(build === 'simd' ? CORE_WASM_PATH : CORE_SCALAR_WASM_PATH, join(dir, 'core.wasm'));
    writeFileSync(join(dir, 'driver.wat'), driverWat(planned));
    run('wat2wasm', ['driver.wat', '-o', 'driver.wasm'], dir);
    const invoke = (module: string, field: string, results: string[]) =>
      ({ type: 'action', line: 0, action: { type: 'invoke', module, field, args: [] }, expected: results.map((type) => ({ type })) });
    const commands = [
      { type: 'module', line: 0, name: '$core', filename: 'core.wasm' },
      { type: 'register', line: 0, name: '$core', as: 'core' },
      invoke('$core', 'selftest', ['i32']), invoke('$core', 'abiVersion', ['i32']), invoke('$core', 'simdLanes', ['i32']),
      { type: 'module', line: 0, name: '$driver', filename: 'driver.wasm' },
      ...planned.flatMap(({ index, planned: p }) => ('answer' in p ? [] : [invoke('$driver', `j${index}`, Array(p.count).fill(p.results))])),
    ].map((c, i) => ({ ...c, line: i + 1 }));
    writeFileSync(join(dir, 'probe.json'), JSON.stringify({ source_filename: 'probe.wast', commands }));
    // each action prints `name() => type:value, …`; values of i64 in unsigned decimal
    const printed = new Map<string, bigint[]>();
    for (const out of run('spectest-interp', ['probe.json'], dir).split('\n')) {
      const m = /^(\w+)\(\) => (.*)$/.exec(out);
      if (m) printed.set(m[1]!, m[2]!.split(', ').map((v) => BigInt.asUintN(64, BigInt(v.split(':')[1]!))));
    }
    const value = (name: string): bigint[] => {
      const v = printed.get(name);
      if (!v) throw new Error(`wabt: no result for ${name}`);
      return v;
    };
    return [
      `selftest ${value('selftest')[0]}`, `abi ${value('abiVersion')[0]}`, `lanes ${value('simdLanes')[0]}`,
      ...planned.map(({ index, planned: p }) => ('answer' in p ? p.answer : p.decode(value(`j${index}`)))),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

