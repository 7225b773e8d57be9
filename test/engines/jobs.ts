/**
 * The jobs every engine answers (format in test/engines/probe.js): every Wycheproof case within the
 * core's ABI (ChaCha20-Poly1305 with 96-bit nonces, HMAC-SHA256, HKDF-SHA256), FIPS 180 SHA-256 and Luhn
 * answers, and one fixed DVD-1 batch of 37 seeded records, every third one bad (bench/dvd1/records.ts), run
 * through the full batch and the open-only batch. Built once, in Node; the engines get the text.
 * `expected` holds what the answers must say where a published answer exists, so Node's own answers are
 * checked too, not only the other engines' agreement with Node.
 */
import { readFileSync } from 'node:fs';
import { DVD1_RECORD_SIZE, encodeDvd1Record } from '../../core/index.ts';
import { makeDvd1Records } from '../../bench/dvd1/records.ts';

const VECTORS = new URL('../vectors/wycheproof/', import.meta.url);
export const DVD1_BATCH = { count: 37, seed: 2024, badEvery: 3 };

interface Group<T> { ivSize?: number; keySize?: number; tagSize?: number; tests: T[] }
interface Case { tcId: number; result: 'valid' | 'invalid' | 'acceptable' }
const load = <T>(name: string): Group<T & Case>[] => JSON.parse(readFileSync(new URL(name, VECTORS), 'utf8')).testGroups;
const h = (s: string): string => (s === '' ? '-' : s.toLowerCase());
const ascii = (s: string): string => Buffer.from(s, 'latin1').toString('hex') || '-';

export interface EngineJobs {
  text: string;
  /** line index (0-based, among job lines) → the answer it must give */
  expected: Map<number, string>;
  counts: Record<string, number>;
}

export function buildJobs(): EngineJobs {
  const lines: string[] = [];
  const expected = new Map<number, string>();
  const counts: Record<string, number> = {};
  const add = (kind: string, line: string, answer?: string) => {
    if (answer !== undefined) expected.set(lines.length, answer);
    lines.push(line);
    counts[kind] = (counts[kind] ?? 0) + 1;
  };

  for (const g of load<{ key: string; iv: string; aad: string; msg: string; ct: string; tag: string }>('chacha20_poly1305_test.json')) {
    if (g.ivSize !== 96) continue; // other nonce sizes are refused by the wrapper before the core sees them
    for (const t of g.tests) {
      add('aead', `open ${h(t.key)} ${h(t.iv)} ${h(t.aad)} ${h(t.ct + t.tag)}`, t.result === 'valid' ? `ok ${h(t.msg)}` : 'fail');
      if (t.result === 'valid') add('aead', `seal ${h(t.key)} ${h(t.iv)} ${h(t.aad)} ${h(t.msg)}`, h(t.ct + t.tag));
    }
  }
  for (const g of load<{ key: string; msg: string; tag: string }>('hmac_sha256_test.json')) {
    // the core always returns the full 32-byte MAC; Wycheproof's truncated tags are checked by prefix in the test
    for (const t of g.tests) add('hmac', `hmac ${h(t.key)} ${h(t.msg)}`, g.tagSize === 256 && t.result === 'valid' ? h(t.tag) : undefined);
  }
  for (const g of load<{ ikm: string; salt: string; info: string; size: number; okm: string }>('hkdf_sha256_test.json')) {
    for (const t of g.tests) add('hkdf', `hkdf ${h(t.ikm)} ${h(t.salt)} ${h(t.info)} ${t.size}`, t.result === 'valid' ? h(t.okm) : 'error HKDF_LENGTH');
  }
  // FIPS 180-2 appendix B
  add('sha256', `sha256 ${ascii('abc')}`, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  add('sha256', `sha256 ${ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')}`, '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  add('sha256', 'sha256 -', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  for (const [digits, ok] of [['4111111111111111', '1'], ['4111111111111112', '0'], ['79927398713', '1'], ['7992739871x', '0'], ['0', '0']]) {
    add('luhn', `luhn ${ascii(digits!)}`, ok);
  }
  const { count, seed, badEvery } = DVD1_BATCH;
  const packed = new Uint8Array(count * DVD1_RECORD_SIZE);
  makeDvd1Records(count, { seed, badEvery }).forEach((r, i) => encodeDvd1Record(r, packed, i * DVD1_RECORD_SIZE));
  const hexRecords = Buffer.from(packed).toString('hex');
  add('dvd1', `dvd1 ${count} ${hexRecords}`);
  add('dvd1', `open1 ${count} ${hexRecords}`);
  return { text: `${lines.join('\n')}\n`, expected, counts };
}

