/**
 * `scanpay keys public|rotate --receipt` and `scanpay receipt verify` (docs/receipts.md): the published keys come
 * from the key ring without a secret byte; a receipt (text, a file of a chain, a PNG of its QR code) verifies
 * (exit 0) with the published document or the key ring; a changed byte, another ring's keys, or a broken chain
 * is refused with its verdict code (exit 1); bad usage is exit 2.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import type { Output } from '../../cli/output.ts';
import { RECEIPT_ZERO_HASH, receiptBytes, receiptText } from '../../core/receipt.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { receiptQrPng } from '../../issuer/qr.ts';
import { signReceiptChain, type UnsignedReceipt } from '../../issuer/receipt-signing.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scanpay-cli-receipt-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ code: number; lines: string[]; errors: string[]; values: unknown[] }> {
  const lines: string[] = [];
  const errors: string[] = [];
  const values: unknown[] = [];
  const out: Output = { line: (t) => lines.push(t), json: (v) => values.push(JSON.parse(JSON.stringify(v))), error: (t) => errors.push(t) };
  const code = await main(['node', 'scanpay', ...args], out);
  return { code, lines, errors, values };
}

const receipts = (n: number): UnsignedReceipt[] => Array.from({ length: n }, (_, i) => ({
  kind: i === 0 ? 'payment' : 'refund', seq: i + 1, at: 1_767_225_600_000 + i, amount: 1_000 - i, currency: 'EUR',
  paymentId: 'ab'.repeat(16), eventN: i + 1, last4: '4242', merchant: 'corner-cafe',
}));

describe('scanpay keys and receipt verify', () => {
  it('publishes the receipt keys without secrets, rotates them, and verifies receipts, chains and QR images', async () => {
    const ring = join(dir, 'ring.json');
    expect((await cli('--keyring', ring, 'keys', 'generate')).code).toBe(0);
    const published = await cli('--keyring', ring, 'keys', 'public', '--json');
    expect(published.code).toBe(0);
    const doc = published.values[0] as { object: string; keys: { id: number; public_key: string; state: string }[] };
    expect(doc).toMatchObject({ object: 'receipt_keys', keys: [{ id: 1, algorithm: 'Ed25519', state: 'active' }] });
    const file = JSON.parse(await readFile(ring, 'utf8')) as { receiptKeys: { seed: string }[] };
    const seed = file.receiptKeys[0]!.seed;
    const listed = await cli('--keyring', ring, 'keys', 'list');
    expect(listed.lines.join('\n')).toContain(doc.keys[0]!.public_key);
    for (const run of [published, listed, await cli('--keyring', ring, 'keys', 'public'), await cli('--keyring', ring, 'keys', 'list', '--json')]) {
      expect(JSON.stringify(run)).not.toContain(seed);
      expect(JSON.stringify(run)).not.toContain(Buffer.from(seed, 'base64url').toString('hex'));
    }
    const keysFile = join(dir, 'receipt-keys.json');
    await writeFile(keysFile, JSON.stringify(doc));

    const chain = signReceiptChain(IssuerKeyRing.parse(await readFile(ring, 'utf8')), { prevHash: RECEIPT_ZERO_HASH, receipts: receipts(3) });
    const one = await cli('receipt', 'verify', chain[0]!.text, '--keys', keysFile);
    expect(one.code, one.errors.join()).toBe(0);
    expect(one.lines[0]).toContain(`valid payment receipt corner-cafe #1: 1000 EUR`);
    expect((await cli('--keyring', ring, 'receipt', 'verify', chain[0]!.text)).code).toBe(0); // the ring's public keys
    const chainFile = join(dir, 'chain.txt');
    await writeFile(chainFile, chain.map((r) => r.text).join('\n') + '\n');
    const whole = await cli('receipt', 'verify', chainFile, '--keys', keysFile, '--chain', '--json');
    expect(whole.code).toBe(0);
    expect(whole.values[0]).toMatchObject({ ok: true, head: chain[2]!.hash });
    const tail = await cli('receipt', 'verify', chain[2]!.text, '--keys', keysFile, '--chain', '--prev-hash', chain[1]!.hash);
    expect(tail.code).toBe(0);
    const png = join(dir, 'receipt.png');
    await writeFile(png, await receiptQrPng(chain[1]!.text));
    expect((await cli('receipt', 'verify', png, '--keys', keysFile)).lines[0]).toContain('valid refund receipt corner-cafe #2');

    // a changed byte, a broken chain, another ring's keys: refused, exit 1, with the verdict code
    const bytes = receiptBytes(chain[0]!.text);
    bytes[30]! ^= 1;
    const changed = await cli('receipt', 'verify', receiptText(bytes), '--keys', keysFile);
    expect(changed.code).toBe(1);
    expect(changed.errors).toEqual([expect.stringMatching(/^scanpay: .* \[RECEIPT_SIGNATURE_INVALID\]$/)]);
    const gapFile = join(dir, 'gap.txt');
    await writeFile(gapFile, [chain[0]!.text, chain[2]!.text].join('\n'));
    const gap = await cli('receipt', 'verify', gapFile, '--keys', keysFile, '--chain');
    expect(gap.code).toBe(1);
    expect(gap.errors[0]).toMatch(/\[RECEIPT_CHAIN_BROKEN\]$/);
    const wrongHead = await cli('receipt', 'verify', chain[2]!.text, '--keys', keysFile, '--chain', '--prev-hash', chain[0]!.hash);
    expect(wrongHead.errors[0]).toMatch(/\[RECEIPT_CHAIN_BROKEN\]$/);
    const otherRing = join(dir, 'other.json');
    await cli('--keyring', otherRing, 'keys', 'generate');
    expect((await cli('--keyring', otherRing, 'receipt', 'verify', chain[0]!.text)).errors[0]).toMatch(/\[RECEIPT_SIGNATURE_INVALID\]$/);

    // rotation: key 2 active, key 1 verify-only and still published
    const rotated = await cli('--keyring', ring, 'keys', 'rotate', '--receipt', '--json');
    expect(rotated.values[0]).toMatchObject({ receiptActive: 2, verifyOnly: 1 });
    const after = (await cli('--keyring', ring, 'keys', 'public', '--json')).values[0] as typeof doc;
    expect(after.keys.map((k) => [k.id, k.state])).toEqual([[1, 'verify-only'], [2, 'active']]);
    expect(after.keys[0]!.public_key).toBe(doc.keys[0]!.public_key);
    expect((await cli('--keyring', ring, 'receipt', 'verify', chain[0]!.text)).code).toBe(0);

    // bad usage: exit 2
    expect((await cli('receipt', 'verify', chainFile, '--keys', keysFile)).code).toBe(2); // several receipts without --chain
    expect((await cli('receipt', 'verify', 'not-a-receipt', '--keys', keysFile)).code).toBe(2);
    expect((await cli('receipt', 'verify', chain[0]!.text, '--keys', join(dir, 'none.json'))).code).toBe(2);
    expect((await cli('receipt', 'verify', chain[0]!.text, '--keys', keysFile, '--chain', '--prev-hash', 'xyz')).code).toBe(2);
  });
});
