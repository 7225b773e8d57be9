/**
 * The same core in every engine: Node, Deno, Bun, Chromium, Firefox ESR and native C (wasm2c + gcc) each
 * answer the same jobs (selftest, every in-ABI Wycheproof case, FIPS 180, RFC 8032 and Luhn answers,
 * seeded SHA-512 and Ed25519 cases, one-time codes (payload v2: generated with oneTimeCode, byte-identical text
 * included; verified in code-record batches; enrolment), one fixed DVD-1 batch with bad records, full and open-only) with the
 * SIMD and the scalar build, and every answer must equal Node's byte for byte. WABT's interpreter
 * (test/engines/wabt.ts) answers the SHA-256, SHA-512 and Ed25519 jobs, which must equal Node's too.
 * Node's own answers are checked first: against the published vectors and node:crypto, and against the
 * node:crypto DVD-1 (bench/baseline), so agreement means agreement on the right bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as scanpayCore from '../../core/index.ts';
import { loadCore, type CoreBuild } from '../../core/index.ts';
import { makeDvd1Records } from '../../bench/dvd1/records.ts';
import { run as nodeCryptoDvd1 } from '../../bench/dvd1/node-crypto.ts';
import { buildJobs, CODE_JOBS, DVD1_BATCH, ED25519_SEEDED, SHA512_LENGTHS } from './jobs.ts';
import { ENGINES } from './engines.ts';
import { describeEngine } from './describe-engine.ts';
import { runJobs } from './probe.js';
import { runWabtJobs, wabtJobIndexes, wabtMissing, wabtVersion } from './wabt.ts';

const jobs = buildJobs();
const reference: Partial<Record<CoreBuild, string[]>> = {};
const answersOf = (text: string): string[] => text.trimEnd().split('\n');

beforeAll(async () => {
  for (const build of ['simd', 'scalar'] as const) reference[build] = answersOf(runJobs(await loadCore(undefined, { build }), jobs.text, scanpayCore));
});

/** First differing line, shortened, so a mismatch reads as a sentence rather than 40 kB of hex. */
function firstDifference(got: string[], want: string[]): string | null {
  for (let i = 0; i < Math.max(got.length, want.length); i++) {
    if (got[i] !== want[i]) return `answer ${i}: got ${String(got[i]).slice(0, 80)}…, Node says ${String(want[i]).slice(0, 80)}…`;
  }
  return null;
}

describe('Node, the reference', () => {
  it('covers every kind of job', () => {
    expect(jobs.counts.aead).toBeGreaterThan(400);
    expect(jobs.counts.hmac).toBeGreaterThan(150);
    expect(jobs.counts.hkdf).toBeGreaterThan(80);
    expect(jobs.counts.sha512).toBe(3 + SHA512_LENGTHS.length);
    expect(jobs.counts.ed25519).toBe(151 + 5 + 2 * ED25519_SEEDED.count); // Wycheproof, RFC 8032 §7.1, seeded (each flipped too)
    expect(jobs.counts.dvd1).toBe(2);
    expect(jobs.counts.receipt).toBe(2 * (3 + 8)); // two receipts: signature, hash, wrong key, 8 bytes changed
    expect(jobs.counts.code).toBe(CODE_JOBS.generated); // one-time code generation, the worked example first
    expect(jobs.counts.vcode).toBe(2); // code records without and with the PIN
    expect(jobs.counts.enrol).toBe(1);
  });

  it('answers selftest 0, ABI 1, 4 lanes (SIMD) and 1 lane (scalar)', () => {
    expect(reference.simd!.slice(0, 3)).toEqual(['selftest 0', 'abi 1', 'lanes 4']);
    expect(reference.scalar!.slice(0, 3)).toEqual(['selftest 0', 'abi 1', 'lanes 1']);
  });

  it('gives the published answer for every vector that has one', () => {
    const answers = reference.simd!.slice(3);
    let checked = 0;
    for (const [i, want] of jobs.expected) {
      expect(answers[i], `job ${i}: ${jobs.text.split('\n')[i]!.slice(0, 60)}`).toBe(want);
      checked++;
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('gives the DVD-1 answers of the node:crypto implementation, bad records included', () => {
    const { count, seed, badEvery } = DVD1_BATCH;
    const records = makeDvd1Records(count, { seed, badEvery });
    const want = nodeCryptoDvd1(records);
    const [passed, hex] = reference.simd!.at(-2)!.split(' ');
    const bytes = Buffer.from(hex!, 'hex');
    expect(Number(passed)).toBe(want.filter((r) => r.ok).length);
    expect(Number(passed)).toBeLessThan(count); // some really were bad
    want.forEach((r, i) => {
      expect(bytes[count * 32 + i], `status of record ${i}`).toBe(r.status);
      expect(Buffer.from(bytes.subarray(i * 32, i * 32 + 32)).equals(Buffer.from(r.cryptogram)), `cryptogram of record ${i}`).toBe(true);
    });
  });

  it('answers the same with the SIMD and the scalar build (past the lanes line)', () => {
    expect(firstDifference(reference.scalar!.slice(3), reference.simd!.slice(3))).toBeNull();
  });
});

for (const engine of ENGINES) {
  describeEngine(`${engine.name} (${engine.vm})`, engine.missing(), () => {
    afterAll(() => engine.close());
    for (const build of engine.builds) {
      it(`${build} build: every answer equals Node's`, async () => {
        const got = answersOf(await engine.probe(build, jobs.text));
        if (build === engine.builds[0]) console.log(`${engine.name}: ${await engine.version()} — ${got.length} answers`);
        expect(got.length).toBe(reference[build]!.length);
        expect(firstDifference(got, reference[build]!)).toBeNull();
      }, 180_000);
    }
  });
}

describeEngine('wabt (WABT interpreter, spectest-interp)', wabtMissing(), () => {
  for (const build of ['simd', 'scalar'] as const) {
    it(`${build} build: the SHA-256, SHA-512 and Ed25519 answers equal Node's`, () => {
      const indexes = wabtJobIndexes(jobs.text);
      expect(indexes.length).toBe(jobs.counts.sha256! + jobs.counts.sha512! + jobs.counts.ed25519! + jobs.counts.receipt!);
      const got = runWabtJobs(build, jobs.text);
      if (build === 'simd') console.log(`wabt: ${wabtVersion()} — ${got.length} answers`);
      const want = [...reference[build]!.slice(0, 3), ...indexes.map((i) => reference[build]![3 + i]!)];
      expect(got.length).toBe(want.length);
      expect(firstDifference(got, want)).toBeNull();
    }, 180_000);
  }
});
