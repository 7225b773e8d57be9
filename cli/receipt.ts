/**
 * `scanpay receipt verify <receipt>`: checks signed receipts (docs/receipts.md) with the WASM core, the same
 * verification the browser page runs. The receipt is its text (`spr1.…`), a file holding one or more (one a
 * line, in chain order), or a PNG of its QR code. Keys: the published document (`--keys FILE` from
 * `scanpay keys public --json` or `/receipt-keys`), else the key ring's public halves. With --chain the receipts must
 * be one merchant's, each linked to the one before (and to --prev-hash, when given).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadCore } from '../core/index.ts';
import { verifyReceiptChain, type ReceiptKeys, type ReceiptVerdict } from '../core/receipt.ts';
import { ScanpayError } from '../core/errors.ts';
import { decodeQrPng } from '../issuer/qr.ts';
import { loadKeyRing, type GlobalOptions } from './context.ts';
import { usageError } from './errors.ts';
import { withJson, type Output } from './output.ts';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];

/** The receipts an argument names: its text, a file's lines, or a QR image's text. */
function receiptsOf(arg: string): string[] {
  if (arg.startsWith('spr1.')) return [arg];
  if (!existsSync(arg)) throw usageError(`${arg.slice(0, 60)} is neither a receipt (spr1.…) nor a file`);
  const bytes = readFileSync(arg);
  if (PNG_MAGIC.every((b, i) => bytes[i] === b)) return [decodeQrPng(bytes)];
  const lines = bytes.toString('utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines.length === 0) throw usageError(`${arg} holds no receipt`);
  return lines;
}

function keysFrom(file: string): ReceiptKeys {
  if (!existsSync(file)) throw usageError(`--keys ${file}: no such file`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ReceiptKeys;
  } catch {
    throw usageError(`--keys ${file}: not JSON (expected the document \`scanpay keys public --json\` prints)`);
  }
}

function describe(v: ReceiptVerdict): string {
  if (!v.ok) return `INVALID ${v.code}: ${v.detail}`;
  const r = v.receipt;
  return `valid ${r.kind} receipt ${r.merchant} #${r.seq}: ${r.amount} ${r.currency} (minor units), card ${r.last4}, payment ${r.paymentId}, `
    + `at ${new Date(r.at).toISOString()}, key ${r.keyId}, hash ${v.hash}`;
}

export function receiptCommand(program: Command, out: Output): void {
  const receipt = program.command('receipt').description('signed receipts anyone can verify');
  const globals = () => program.opts<GlobalOptions>();
  withJson(receipt.command('verify <receipt>')
    .description('check a receipt (spr1.… text, a file of them one a line, or a PNG of its QR code): its signature, and with --chain its chain')
    .option('--keys <file>', 'the published receipt keys (JSON of `scanpay keys public --json` or GET /receipt-keys); default: the key ring\'s public keys')
    .option('--chain', 'the receipts are consecutive receipts of one merchant: each must link to the one before it')
    .option('--prev-hash <hex>', 'with --chain: the hash of the receipt before the first one (64 hex digits)'))
    .action(async (arg: string, opts: { keys?: string; chain?: boolean; prevHash?: string; json?: boolean }) => {
      const receipts = receiptsOf(arg);
      if (!opts.chain && receipts.length > 1) throw usageError(`${arg} holds ${receipts.length} receipts: pass --chain to check them as a chain`);
      if (opts.prevHash !== undefined && !/^[0-9a-f]{64}$/.test(opts.prevHash)) throw usageError('--prev-hash must be 64 lowercase hex digits');
      if (opts.prevHash !== undefined && !opts.chain) throw usageError('--prev-hash goes with --chain');
      const keys = opts.keys ? keysFrom(opts.keys) : (await loadKeyRing(globals())).receiptPublicKeys();
      const core = await loadCore();
      const result = verifyReceiptChain(core, receipts, keys, opts.prevHash ? { prevHash: opts.prevHash } : {});
      // without --chain, one receipt is judged alone (verifyReceiptChain of one receipt links it to nothing)
      if (opts.json) {
        out.json({
          ok: result.ok, head: result.head,
          receipts: result.verdicts.map((v) => (v.ok ? { ok: true, hash: v.hash, ...v.receipt, signature: Buffer.from(v.receipt.signature).toString('hex') } : { ok: false, code: v.code, detail: v.detail })),
        });
      } else {
        for (const v of result.verdicts) out.line(describe(v));
        if (opts.chain && result.ok) out.line(`chain of ${receipts.length} receipt${receipts.length === 1 ? '' : 's'} intact; head ${result.head}`);
      }
      const failed = result.verdicts.find((v) => !v.ok);
      if (failed && !failed.ok) throw new ScanpayError(failed.code, failed.detail);
    });
}
