/**
 * `scanpay card …`: issue, re-issue, block, unblock, change PIN, show. A card is named by its PAN, by its
 * payload text, or by a QR image of it. Output shows the masked PAN only.
 */
import { existsSync, statSync } from 'node:fs';
import { access, readFile, rename, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { ScanpayError } from '../core/errors.ts';
import type { CardView, IssuedCard } from '../issuer/issuer.ts';
import { isPanShaped } from '../issuer/pan.ts';
import { decodeQrPng, payloadQrPng, payloadQrSvg, qrVersionOf, QR_ERROR_CORRECTION } from '../issuer/qr.ts';
import { withIssuer, type GlobalOptions, type IssuerContext } from './context.ts';
import { parseInteger, type Output } from './output.ts';

const MAX_MINOR_UNITS = Number.MAX_SAFE_INTEGER;
const QR_KINDS = ['.png', '.svg'] as const;

/** Checks a --qr target before anything is written, so a bad path never leaves a card without its QR. */
async function checkQrTarget(file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined;
  const path = resolve(file);
  if (!QR_KINDS.includes(extname(path).toLowerCase() as (typeof QR_KINDS)[number])) {
    throw new ScanpayError('BAD_ARGUMENT', '--qr must end in .png or .svg');
  }
  if (existsSync(path) && !statSync(path).isFile()) throw new ScanpayError('BAD_ARGUMENT', `--qr ${path} exists and is not a file`);
  try {
    await access(dirname(path), constants.W_OK);
  } catch {
    throw new ScanpayError('BAD_ARGUMENT', `cannot write to ${dirname(path)}`);
  }
  return path;
}

async function writeQr(path: string, payloadText: string): Promise<void> {
  const image = extname(path).toLowerCase() === '.png' ? await payloadQrPng(payloadText) : await payloadQrSvg(payloadText);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, image);
  await rename(temp, path);
}

/** PAN, payload text, or the path of a QR image holding the payload. */
async function panOf(ctx: IssuerContext, card: string): Promise<string> {
  if (isPanShaped(card)) return card;
  const scanned = existsSync(card) && statSync(card).isFile() ? decodeQrPng(await readFile(card)) : card;
  return ctx.issuer.panOfPayload(scanned);
}

function printView(out: Output, view: CardView, json: boolean, extra: Record<string, unknown> = {}): void {
  if (json) {
    out.json({ ...view, ...extra });
    return;
  }
  out.line(`card      ${view.maskedPan}`);
  out.line(`status    ${view.status}${view.pinFailures ? ` (${view.pinFailures} wrong PIN${view.pinFailures > 1 ? 's' : ''})` : ''}`);
  out.line(`payload   generation ${view.generation}, issuer key ${view.keyId}`);
  out.line(`limit     ${view.limit} ${view.currency} minor units per payment; balance ${view.balance}`);
  for (const [key, value] of Object.entries(extra)) out.line(`${key.padEnd(9)} ${String(value)}`);
}

async function printIssued(out: Output, issued: IssuedCard, qrPath: string | undefined, json: boolean): Promise<void> {
  const extra: Record<string, unknown> = { payload: issued.payloadText };
  if (qrPath) {
    await writeQr(qrPath, issued.payloadText);
    extra.qr = `${qrPath} (QR version ${qrVersionOf(issued.payloadText)}, error correction ${QR_ERROR_CORRECTION})`;
  }
  printView(out, issued.view, json, extra);
}

export function cardCommand(program: Command, out: Output): void {
  const card = program.command('card').description('issue and manage cards (needs --redis URL or REDIS_URL)');
  const globals = () => program.opts<GlobalOptions>();

  card.command('issue')
    .description('issue a card: store its mapping and print its payload (and QR)')
    .requiredOption('--pin <digits>', "the holder's 4-digit PIN")
    .requiredOption('--limit <minor>', 'largest single payment, in minor units (e.g. cents)')
    .requiredOption('--currency <code>', 'ISO 4217 currency code, e.g. EUR')
    .option('--balance <minor>', 'funds available, in minor units (default: the limit)')
    .option('--bin <digits>', 'issuer BIN (6-8 digits) the PAN starts with')
    .option('--qr <file>', 'write the payload QR code to file.png or file.svg')
    .option('--json', 'print JSON')
    .action(async (opts: { pin: string; limit: string; currency: string; balance?: string; bin?: string; qr?: string; json?: boolean }) => {
      const limit = parseInteger(opts.limit, '--limit', 0, MAX_MINOR_UNITS);
      const balance = opts.balance === undefined ? undefined : parseInteger(opts.balance, '--balance', 0, MAX_MINOR_UNITS);
      const qrPath = await checkQrTarget(opts.qr);
      await withIssuer({ ...globals(), bin: opts.bin }, async ({ issuer }) => {
        const issued = await issuer.issueCard({ pin: opts.pin, limit, balance, currency: opts.currency });
        await printIssued(out, issued, qrPath, Boolean(opts.json));
      });
    });

  card.command('reissue <card>')
    .description('write a new payload (generation + 1) under the active key; older payloads become illegal')
    .option('--qr <file>', 'write the new payload QR code to file.png or file.svg')
    .option('--json', 'print JSON')
    .action(async (cardRef: string, opts: { qr?: string; json?: boolean }) => {
      const qrPath = await checkQrTarget(opts.qr);
      await withIssuer(globals(), async (ctx) => {
        const issued = await ctx.issuer.reissueCard(await panOf(ctx, cardRef));
        await printIssued(out, issued, qrPath, Boolean(opts.json));
      });
    });

  const simple = (name: string, description: string, act: (ctx: IssuerContext, pan: string) => Promise<CardView>) => {
    card.command(`${name} <card>`)
      .description(description)
      .option('--json', 'print JSON')
      .action(async (cardRef: string, opts: { json?: boolean }) => {
        await withIssuer(globals(), async (ctx) => printView(out, await act(ctx, await panOf(ctx, cardRef)), Boolean(opts.json)));
      });
  };
  simple('block', 'block a card: its payloads become illegal', (ctx, pan) => ctx.issuer.blockCard(pan));
  simple('unblock', 'make a blocked or PIN-locked card active again', (ctx, pan) => ctx.issuer.unblockCard(pan));
  simple('show', "show a card's public view", (ctx, pan) => ctx.issuer.viewCard(pan));

  card.command('pin <card>')
    .description("change a card's PIN")
    .requiredOption('--pin <digits>', 'the new 4-digit PIN')
    .option('--json', 'print JSON')
    .action(async (cardRef: string, opts: { pin: string; json?: boolean }) => {
      await withIssuer(globals(), async (ctx) => printView(out, await ctx.issuer.changePin(await panOf(ctx, cardRef), opts.pin), Boolean(opts.json)));
    });
}
