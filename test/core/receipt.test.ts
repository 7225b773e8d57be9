/**
 * Signed receipts in the core (core/receipt.ts, docs/receipts.md), both builds:
 * - the worked example of docs/receipts.md recomputed byte for byte (bytes, signature, text, hash) and found in the doc;
 * - every byte of a receipt changed (each position, a flipped bit) fails verification, as does a wrong key, an
 *   unknown key id, and a broken chain (a receipt removed, reordered, or linked to another hash);
 * - differential against node:crypto on random receipts under fresh keys: the core accepts what OpenSSL signed,
 *   and core and OpenSSL agree on each mutated signature;
 * - canonical form: padding, stray characters, non-zero unused bits, another magic or kind, a wrong length are
 *   all RECEIPT_MALFORMED.
 */
import { createHash, createPublicKey, randomBytes, randomInt, sign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCore, type CoreBuild, type WasmCryptoCore } from '../../core/index.ts';
import {
  RECEIPT_ZERO_HASH, decodeReceipt, encodeReceiptBody, receiptBytes, receiptText, verifyReceipt, verifyReceiptChain, type ReceiptFields,
} from '../../core/receipt.ts';
import { ed25519PrivateKey, ed25519RawPublicKey } from '../support/ed25519-keys.ts';

const DOC = readFileSync(new URL('../../docs/receipts.md', import.meta.url), 'utf8');
const SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
const rawPublic = ed25519RawPublicKey;
const EXAMPLE_KEY = ed25519PrivateKey(SEED);
const EXAMPLE_KEYS = { keys: [{ id: 1, public_key: Buffer.from(rawPublic(EXAMPLE_KEY)).toString('base64url') }] };

const PAYMENT: Omit<ReceiptFields, 'prevHash'> = {
  kind: 'payment', keyId: 1, seq: 1, at: Date.UTC(2026, 0, 1), amount: 1250, currency: 'EUR', paymentId: '0123456789abcdef0123456789abcdef',
  eventN: 1, last4: '4242', merchant: 'corner-cafe',
};
const REFUND: Omit<ReceiptFields, 'prevHash'> = { ...PAYMENT, kind: 'refund', seq: 2, at: Date.UTC(2026, 0, 1, 1), amount: 450, eventN: 2 };

/** Signs a chain of receipts with node:crypto, as the workers do: bytes, text and hash of each. */
function chainOf(key: KeyObject, fields: Omit<ReceiptFields, 'prevHash'>[], prevHash = RECEIPT_ZERO_HASH) {
  return fields.map((f) => {
    const body = encodeReceiptBody({ ...f, prevHash });
    const signature = sign(null, body, key);
    const bytes = new Uint8Array(Buffer.concat([body, signature]));
    const hash = createHash('sha256').update(bytes).digest('hex');
    prevHash = hash;
    return { body, signature, bytes, text: receiptText(bytes), hash };
  });
}

describe.each(['simd', 'scalar'] as CoreBuild[])('receipts on the %s core', (build) => {
  let core: WasmCryptoCore;
  beforeAll(async () => {
    core = await loadCore(undefined, { build });
  });

  it('recomputes the worked example of docs/receipts.md byte for byte', () => {
    const [first, second] = chainOf(EXAMPLE_KEY, [PAYMENT, REFUND]);
    expect(Buffer.from(first!.body).toString('hex')).toBe('53505231' + '01' + '0001' + '0000000000000001' + '0000019b76daa800' + '00000000000004e2' + '455552'
      + '0123456789abcdef0123456789abcdef' + '00000001' + '00'.repeat(32) + '34323432' + '0b' + '636f726e65722d63616665');
    // the doc shows the bytes grouped by field: the same digits, spaces and line breaks aside
    const shown = /Receipt 1 \(payment\): the signed bytes\n\n```\n([\s\S]*?)```/.exec(DOC)![1]!.replace(/\s+/g, '');
    expect(shown).toBe(Buffer.from(first!.body).toString('hex'));
    for (const value of [first!.text, first!.hash, Buffer.from(first!.signature).toString('hex'), second!.text, second!.hash, EXAMPLE_KEYS.keys[0]!.public_key]) {
      expect(DOC).toContain(value);
    }
    const verdict = verifyReceipt(core, first!.text, EXAMPLE_KEYS);
    expect(verdict).toMatchObject({ ok: true, hash: first!.hash, receipt: { ...PAYMENT, prevHash: RECEIPT_ZERO_HASH } });
    expect(verifyReceiptChain(core, [first!.text, second!.text], EXAMPLE_KEYS, { prevHash: RECEIPT_ZERO_HASH })).toMatchObject({ ok: true, head: second!.hash });
  });

  it('refuses a receipt with any byte changed: every position, one flipped bit each', () => {
    const [receipt] = chainOf(EXAMPLE_KEY, [PAYMENT]);
    let refused = 0;
    for (let i = 0; i < receipt!.bytes.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const changed = receipt!.bytes.slice();
        changed[i]! ^= bit;
        const verdict = verifyReceipt(core, receiptText(changed), EXAMPLE_KEYS);
        expect(verdict.ok, `byte ${i} bit ${bit}`).toBe(false);
        refused++;
      }
    }
    expect(refused).toBe(2 * receipt!.bytes.length);
    // truncated or extended by one byte
    expect(verifyReceipt(core, receiptText(receipt!.bytes.subarray(0, -1)), EXAMPLE_KEYS).ok).toBe(false);
    expect(verifyReceipt(core, receiptText(new Uint8Array([...receipt!.bytes, 0])), EXAMPLE_KEYS).ok).toBe(false);
  });

  it('refuses a wrong key, an unknown key id, and a receipt signed by another key under the published id', () => {
    const [receipt] = chainOf(EXAMPLE_KEY, [PAYMENT]);
    const other = ed25519PrivateKey();
    expect(verifyReceipt(core, receipt!.text, [{ id: 1, publicKey: rawPublic(other) }])).toMatchObject({ ok: false, code: 'RECEIPT_SIGNATURE_INVALID' });
    expect(verifyReceipt(core, receipt!.text, [{ id: 2, publicKey: rawPublic(EXAMPLE_KEY) }])).toMatchObject({ ok: false, code: 'RECEIPT_KEY_UNKNOWN' });
    expect(verifyReceipt(core, receipt!.text, [])).toMatchObject({ ok: false, code: 'RECEIPT_KEY_UNKNOWN' });
    const [forged] = chainOf(other, [PAYMENT]);
    expect(verifyReceipt(core, forged!.text, EXAMPLE_KEYS)).toMatchObject({ ok: false, code: 'RECEIPT_SIGNATURE_INVALID' });
  });

  it('refuses a broken chain: a receipt removed, reordered, inserted from elsewhere, or linked to another hash', () => {
    const fields = [1, 2, 3, 4].map((seq) => ({ ...PAYMENT, seq, eventN: seq, amount: 100 * seq }));
    const chain = chainOf(EXAMPLE_KEY, fields);
    const texts = chain.map((r) => r.text);
    expect(verifyReceiptChain(core, texts, EXAMPLE_KEYS, { prevHash: RECEIPT_ZERO_HASH }).ok).toBe(true);
    const broken = (list: string[], opts = { prevHash: RECEIPT_ZERO_HASH }) => verifyReceiptChain(core, list, EXAMPLE_KEYS, opts);
    expect(broken([texts[0]!, texts[2]!, texts[3]!]).verdicts.at(-1)).toMatchObject({ ok: false, code: 'RECEIPT_CHAIN_BROKEN' }); // removed
    expect(broken([texts[0]!, texts[2]!, texts[1]!, texts[3]!])).toMatchObject({ ok: false }); // reordered
    expect(broken(texts.slice(1))).toMatchObject({ ok: false }); // does not start at the first
    expect(verifyReceiptChain(core, texts.slice(1), EXAMPLE_KEYS, { prevHash: chain[0]!.hash }).ok).toBe(true); // from a known head
    // a validly signed receipt with the right seq but linked to another history (a fork) is refused
    const [fork] = chainOf(EXAMPLE_KEY, [fields[2]!], createHash('sha256').update('another history').digest('hex'));
    expect(broken([texts[0]!, texts[1]!, fork!.text])).toMatchObject({ ok: false });
    expect(broken([texts[0]!, texts[1]!, fork!.text]).verdicts.at(-1)).toMatchObject({ code: 'RECEIPT_CHAIN_BROKEN' });
    // receipt 1 must name no previous one; a later one must name one
    const [selfFirst] = chainOf(EXAMPLE_KEY, [{ ...PAYMENT, seq: 1 }], chain[0]!.hash);
    expect(verifyReceipt(core, selfFirst!.text, EXAMPLE_KEYS)).toMatchObject({ ok: false, code: 'RECEIPT_CHAIN_BROKEN' });
    const [orphan] = chainOf(EXAMPLE_KEY, [{ ...PAYMENT, seq: 7 }]);
    expect(verifyReceipt(core, orphan!.text, EXAMPLE_KEYS)).toMatchObject({ ok: false, code: 'RECEIPT_CHAIN_BROKEN' });
    // another merchant's receipt with the next seq and the right link is still not this chain
    const [other] = chainOf(EXAMPLE_KEY, [{ ...fields[1]!, merchant: 'other-shop' }], chain[0]!.hash);
    expect(broken([texts[0]!, other!.text]).verdicts.at(-1)).toMatchObject({ ok: false, code: 'RECEIPT_CHAIN_BROKEN' });
  });

  it('agrees with node:crypto on random receipts under fresh keys, and on mutated signatures', () => {
    for (let i = 0; i < 64; i++) {
      const privateKey = ed25519PrivateKey();
      const publicKey = createPublicKey(privateKey);
      const merchant = randomBytes(8).toString('hex').slice(0, randomInt(1, 17));
      const fields: Omit<ReceiptFields, 'prevHash'> = {
        kind: (['payment', 'capture', 'refund'] as const)[randomInt(3)]!, keyId: randomInt(1, 65536), seq: randomInt(2, 2 ** 40),
        at: randomInt(0, 2 ** 47), amount: randomInt(1, 2 ** 47), currency: 'USD', paymentId: randomBytes(16).toString('hex'),
        eventN: randomInt(1, 1000), last4: String(randomInt(10_000)).padStart(4, '0'), merchant,
      };
      const [r] = chainOf(privateKey, [fields], randomBytes(32).toString('hex'));
      const keys = [{ id: fields.keyId, publicKey: rawPublic(privateKey) }];
      expect(verifyReceipt(core, r!.text, keys).ok).toBe(true);
      expect(nodeVerify(null, r!.body, publicKey, r!.signature)).toBe(true);
      const sig = new Uint8Array(r!.signature);
      sig[randomInt(64)]! ^= 1 << randomInt(8);
      const mutated = new Uint8Array([...r!.body, ...sig]);
      const core1 = verifyReceipt(core, mutated, keys);
      expect(core1.ok).toBe(nodeVerify(null, r!.body, publicKey, sig));
      expect(core1.ok).toBe(false);
    }
  });
});

describe('canonical form', () => {
  const [receipt] = chainOf(EXAMPLE_KEY, [PAYMENT]);
  const malformed = (text: string) => expect(() => decodeReceipt(receiptBytes(text))).toThrow(expect.objectContaining({ code: 'RECEIPT_MALFORMED' }));

  it('decodes its own text form and nothing else', () => {
    expect(decodeReceipt(receiptBytes(receipt!.text))).toMatchObject(PAYMENT);
    expect(decodeReceipt(receiptBytes(`  ${receipt!.text}\n`))).toMatchObject(PAYMENT); // surrounding white space is no part of it
    malformed(`${receipt!.text}=`);
    malformed(`${receipt!.text}.`);
    malformed(receipt!.text.replace('spr1.', 'SPR1.'));
    malformed(receipt!.text.replace('spr1.', 'spr2.'));
    malformed(`spr1.${Buffer.from(receipt!.bytes).toString('base64')}`); // standard base64 (+, /, =)
    // the last character carries unused bits: set them and the bytes are the same, the text is not
    const last = receipt!.text.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    malformed(receipt!.text.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1]);
    malformed('spr1.');
    malformed('spr1.' + 'A'.repeat(300));
  });

  it('refuses fields out of their rules where the bytes are made', () => {
    const bad = (f: Partial<ReceiptFields>) => expect(() => encodeReceiptBody({ ...PAYMENT, prevHash: RECEIPT_ZERO_HASH, ...f })).toThrow(expect.objectContaining({ code: 'RECEIPT_MALFORMED' }));
    bad({ merchant: '' });
    bad({ merchant: 'x'.repeat(17) });
    bad({ merchant: 'café' });
    bad({ currency: 'eur' });
    bad({ amount: 2 ** 53 });
    bad({ seq: 0 });
    bad({ keyId: 65536 });
    bad({ paymentId: 'xyz' });
    bad({ last4: '42a2' });
    bad({ kind: 'void' as never });
  });
});
