/**
 * The jobs every engine answers (format in test/engines/probe.js): every Wycheproof case within the
 * core's ABI (ChaCha20-Poly1305 with 96-bit nonces, HMAC-SHA256, HKDF-SHA256, Ed25519), FIPS 180 SHA-256,
 * SHA-512 and Luhn answers, SHA-512 of seeded messages, RFC 8032 §7.1 and seeded node:crypto Ed25519
 * signatures (each also with one bit flipped), the worked example's receipts (signature and hash, and with a byte
 * changed: refused), one-time codes (payload v2: docs/card-payload.md's worked example and seeded ones, generated
 * with oneTimeCode; seeded code records, tampered ones mixed in, through the code batch with and without the PIN;
 * a seeded enrolment batch), and one fixed DVD-1 batch of 37 seeded records, every third
 * one bad (bench/dvd1/records.ts), run through the full batch and the open-only batch. Built once, in Node;
 * the engines get the text. `expected` holds what the answers must say where a published answer (or
 * node:crypto's) exists, so Node's own answers are checked too, not only the other engines' agreement with Node.
 */
import { createHash, sign, verify } from 'node:crypto';
import base45 from 'base45';
import { readFileSync } from 'node:fs';
import { DVD1_RECORD_SIZE, encodeDvd1CodeRecord, encodeDvd1Record } from '../../core/index.ts';
import { RECEIPT_ZERO_HASH, encodeReceiptBody } from '../../core/receipt.ts';
import { makeDvd1Records } from '../../bench/dvd1/records.ts';
import { SeededBytes } from '../../bench/dvd1/seeded-bytes.ts';
import { CODE_TAMPERS, codeOf, makeCodeCases, walletKeyOf } from '../../bench/dvd1/code-records.ts';
import { dvd1CodeBatchPacked, dvd1EnrolBatchPacked } from '../../bench/baseline/node-crypto-dvd1.ts';
import { ed25519PrivateKey, ed25519RawPublicKey } from '../support/ed25519-keys.ts';

const VECTORS = new URL('../vectors/wycheproof/', import.meta.url);
const RFC8032 = new URL('../vectors/rfc8032/', import.meta.url);
/** Seeded SHA-512 messages (lengths) and Ed25519 signatures (count) in the jobs. */
export const SHA512_LENGTHS = [...Array.from({ length: 257 }, (_, i) => i), 511, 512, 1023, 1024];
export const ED25519_SEEDED = { count: 24, seed: 8032 };
export const DVD1_BATCH = { count: 37, seed: 2024, badEvery: 3 };
/** One-time codes: seeded generation cases (plus the worked example), code-record batches (× with/without PIN), an enrolment batch. */
export const CODE_JOBS = { generated: 12, seed: 26, records: 24, enrolments: 12 };

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

/** The worked example's two receipts (RFC 8032 TEST 1's key), as core jobs: valid, hashed, and with single bytes changed. */
function receiptJobs(): { line: string; answer: string }[] {
  const key = ed25519PrivateKey(Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'));
  const pub = Buffer.from(ed25519RawPublicKey(key)).toString('hex');
  const other = 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025'; // RFC 8032 TEST 2's public key
  const jobs: { line: string; answer: string }[] = [];
  let prevHash = RECEIPT_ZERO_HASH;
  const base = { keyId: 1, currency: 'EUR', paymentId: '0123456789abcdef0123456789abcdef', last4: '4242', merchant: 'corner-cafe' };
  for (const fields of [
    { ...base, kind: 'payment', seq: 1, at: Date.UTC(2026, 0, 1), amount: 1250, eventN: 1 },
    { ...base, kind: 'refund', seq: 2, at: Date.UTC(2026, 0, 1, 1), amount: 450, eventN: 2 },
  ] as const) {
    const body = Buffer.from(encodeReceiptBody({ ...fields, prevHash }));
    const sig = sign(null, body, key);
    const bytes = Buffer.concat([body, sig]);
    jobs.push({ line: `ed25519 ${pub} ${sig.toString('hex')} ${body.toString('hex')}`, answer: '1' });
    prevHash = createHash('sha256').update(bytes).digest('hex');
    jobs.push({ line: `sha256 ${bytes.toString('hex')}`, answer: prevHash });
    jobs.push({ line: `ed25519 ${other} ${sig.toString('hex')} ${body.toString('hex')}`, answer: '0' });
    for (const at of [0, 4, 23, 60, 88, body.length - 1, body.length + 5, body.length + 40]) { // magic, kind, amount, previous hash, last 4, merchant, R, S
      const changed = Buffer.from(bytes);
      changed[at]! ^= 0x01;
      jobs.push({ line: `ed25519 ${pub} ${changed.subarray(body.length).toString('hex')} ${changed.subarray(0, body.length).toString('hex')}`, answer: '0' });
    }
  }
  return jobs;
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex') || '-';

/**
 * Payload v2 in every engine: `code` (generation: deriveWalletKey + oneTimeCode, answered as wallet key, code bytes
 * and the text's ASCII in hex), `vcode` (the code-record batch) and `enrol` (the enrolment batch), each with the
 * answer node:crypto gives (bench/dvd1/code-records.ts, bench/baseline/node-crypto-dvd1.ts).
 */
function codeJobs(): { kind: string; line: string; answer: string }[] {
  const jobs: { kind: string; line: string; answer: string }[] = [];
  const rng = new SeededBytes(CODE_JOBS.seed);
  const u32 = (): number => Buffer.from(rng.bytes(4)).readUInt32BE(0);
  const cases = [
    // docs/card-payload.md's worked example, then the extremes of step and counter, then seeded ones
    { basicKey: Uint8Array.from({ length: 32 }, (_, i) => i), id: new Uint8Array(Buffer.from('5c1e0d2f7a9b4c3d8e6f1a2b3c4d5e6f', 'hex')), step: 59885040, counter: 7 },
    { basicKey: rng.bytes(32), id: rng.bytes(16), step: 0, counter: 0 },
    { basicKey: rng.bytes(32), id: rng.bytes(16), step: 0xffffffff, counter: 0xffffffff },
    ...Array.from({ length: CODE_JOBS.generated - 3 }, () => ({ basicKey: rng.bytes(32), id: rng.bytes(16), step: u32(), counter: u32() })),
  ];
  for (const { basicKey, id, step, counter } of cases) {
    const walletKey = walletKeyOf(basicKey, id);
    const code = codeOf(walletKey, id, step, counter);
    const text = base45.encode(Buffer.from(code));
    jobs.push({ kind: 'code', line: `code ${hexOf(basicKey)} ${hexOf(id)} ${step} ${counter}`, answer: `${hexOf(walletKey)} ${hexOf(code)} ${Buffer.from(text, 'latin1').toString('hex')}` });
  }
  for (const withPin of [false, true]) {
    const n = CODE_JOBS.records;
    const packed = new Uint8Array(n * DVD1_RECORD_SIZE);
    makeCodeCases(n, { seed: CODE_JOBS.seed + (withPin ? 1 : 0), withPin, tamper: (i) => (i % 3 === 2 ? CODE_TAMPERS[Math.floor(i / 3) % CODE_TAMPERS.length] : undefined) })
      .forEach((c, i) => encodeDvd1CodeRecord(c.record, packed, i * DVD1_RECORD_SIZE));
    const r = dvd1CodeBatchPacked(packed, n);
    jobs.push({ kind: 'vcode', line: `vcode ${n} ${hexOf(packed)}`, answer: `${r.passed} ${hexOf(r.cryptograms)}${hexOf(r.statuses)}` });
  }
  const n = CODE_JOBS.enrolments;
  const packed = new Uint8Array(n * DVD1_RECORD_SIZE);
  makeDvd1Records(n, { seed: CODE_JOBS.seed, badEvery: 3 }).forEach((r, i) => encodeDvd1Record(r, packed, i * DVD1_RECORD_SIZE));
  const ids = rng.bytes(n * 16);
  const e = dvd1EnrolBatchPacked(packed, ids, n);
  jobs.push({ kind: 'enrol', line: `enrol ${n} ${hexOf(packed)} ${hexOf(ids)}`, answer: `${e.passed} ${hexOf(e.enrolled)}${hexOf(e.statuses)}` });
  return jobs;
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
  // FIPS 180-2 appendix C (C.1, C.2) and the empty message; then seeded messages, node:crypto's digests
  add('sha512', `sha512 ${ascii('abc')}`, 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f');
  add('sha512', `sha512 ${ascii('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu')}`,
    '8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909');
  add('sha512', 'sha512 -', 'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e');
  const seeded = new SeededBytes(512);
  for (const length of SHA512_LENGTHS) {
    const msg = seeded.bytes(length);
    add('sha512', `sha512 ${h(Buffer.from(msg).toString('hex'))}`, createHash('sha512').update(msg).digest('hex'));
  }
  for (const g of load<{ msg: string; sig: string }>('ed25519_test.json') as Array<Group<{ msg: string; sig: string } & Case> & { publicKey: { pk: string } }>) {
    for (const t of g.tests) {
      const answer = t.sig.length !== 128 ? 'error BAD_LENGTH' : t.result === 'valid' ? '1' : '0';
      add('ed25519', `ed25519 ${h(g.publicKey.pk)} ${h(t.sig)} ${h(t.msg)}`, answer);
    }
  }
  const rfc8032 = JSON.parse(readFileSync(new URL('ed25519.json', RFC8032), 'utf8')).tests as Array<{ publicKey: string; message: string; signature: string }>;
  for (const v of rfc8032) add('ed25519', `ed25519 ${h(v.publicKey)} ${h(v.signature)} ${h(v.message)}`, '1');
  const keys = new SeededBytes(ED25519_SEEDED.seed);
  for (let i = 0; i < ED25519_SEEDED.count; i++) {
    const key = ed25519PrivateKey(keys.bytes(32));
    const pub = Buffer.from(ed25519RawPublicKey(key));
    const msg = Buffer.from(keys.bytes(i * 43));
    const sig = sign(null, msg, key);
    add('ed25519', `ed25519 ${h(pub.toString('hex'))} ${h(sig.toString('hex'))} ${h(msg.toString('hex'))}`, '1');
    const bad = Buffer.from(sig);
    bad[i % 64]! ^= 1 << (i % 8); // one bit of R or S
    const nodeSays = verify(null, msg, { key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]), format: 'der', type: 'spki' }, bad);
    add('ed25519', `ed25519 ${h(pub.toString('hex'))} ${h(bad.toString('hex'))} ${h(msg.toString('hex'))}`, nodeSays ? '1' : '0');
  }
  // receipts (docs/receipts.md's worked example): what a verifier asks of the core, in every engine — its Ed25519
  // signature over the signed bytes, and SHA-256 of the receipt (the chain's link); each with a byte changed too
  for (const job of receiptJobs()) add('receipt', job.line, job.answer);
  for (const [digits, ok] of [['4111111111111111', '1'], ['4111111111111112', '0'], ['79927398713', '1'], ['7992739871x', '0'], ['0', '0']]) {
    add('luhn', `luhn ${ascii(digits!)}`, ok);
  }
  for (const job of codeJobs()) add(job.kind, job.line, job.answer);
  const { count, seed, badEvery } = DVD1_BATCH;
  const packed = new Uint8Array(count * DVD1_RECORD_SIZE);
  makeDvd1Records(count, { seed, badEvery }).forEach((r, i) => encodeDvd1Record(r, packed, i * DVD1_RECORD_SIZE));
  const hexRecords = Buffer.from(packed).toString('hex');
  add('dvd1', `dvd1 ${count} ${hexRecords}`);
  add('dvd1', `open1 ${count} ${hexRecords}`);
  return { text: `${lines.join('\n')}\n`, expected, counts };
}

