/**
 * `scanpay card …`: issue, re-issue, block, unblock, change PIN, show (and the wallet's: card-wallet.ts). A card is named by its PAN, by its
 * payload text (or a .txt file of it), or by a QR image of it. Output shows the masked PAN only; every
 * command that changes a card says what it changed.
 */
import { existsSync, statSync } from 'node:fs';
import { access, rename, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CardView, IssuedCard } from '../issuer/issuer.ts';
import { assertBin } from '../issuer/pan.ts';
import { parsePayload, payloadFromText } from '../issuer/payload.ts';
import { payloadQrPng, payloadQrSvg, qrVersionOf, QR_ERROR_CORRECTION } from '../issuer/qr.ts';
import { MAX_MINOR_UNITS, MIN_AMOUNT, isKnownCurrency, isPin } from '../protocol/values.ts';
import { readCardArgument, type CardArgument } from './card-ref.ts';
import { cardWalletCommands } from './card-wallet.ts';
import { withIssuer, type GlobalOptions, type IssuerContext } from './context.ts';
import { asUsage, usageError } from './errors.ts';
import { parseInteger, withJson, type Output } from './output.ts';

const QR_KINDS = ['.png', '.svg'] as const;
const VIEW_FIELDS = ['status', 'generation', 'keyId', 'limit', 'balance', 'currency', 'pinFailures'] as const;
type ViewField = (typeof VIEW_FIELDS)[number];
const FIELD_LABEL: Record<ViewField, string> = {
  status: 'status', generation: 'generation', keyId: 'issuer key', limit: 'limit', balance: 'balance', currency: 'currency', pinFailures: 'wrong PINs',
};

/** What a given payload says about itself, next to the card it names (`card show`). */
interface ScannedPayload {
  generation: number;
  keyId: number;
  /** True when it is the card's current payload; a stale one is refused at every scan. */
  current: boolean;
  /** What a scan of it gets today: 'legal' or the S22 reason (GENERATION_STALE, CARD_BLOCKED, …). */
  verdict: string;
}

/** Checks a --qr target before anything is written, so a bad path never leaves a card without its QR. */
async function checkQrTarget(file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined;
  const path = resolve(file);
  if (!QR_KINDS.includes(extname(path).toLowerCase() as (typeof QR_KINDS)[number])) throw usageError('--qr must end in .png or .svg');
  if (existsSync(path) && !statSync(path).isFile()) throw usageError(`--qr ${path} exists and is not a file`);
  try {
    await access(dirname(path), constants.W_OK);
  } catch {
    throw usageError(`--qr: cannot write to ${dirname(path)}`);
  }
  return path;
}

async function writeQr(path: string, payloadText: string): Promise<void> {
  const image = extname(path).toLowerCase() === '.png' ? await payloadQrPng(payloadText) : await payloadQrSvg(payloadText);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, image);
  await rename(temp, path);
}

function panOf(ctx: IssuerContext, card: CardArgument): string {
  return card.kind === 'pan' ? card.pan : ctx.issuer.panOfPayload(card.text);
}

/** The given payload's generation against the card's (the header is authentic once panOfPayload opened it). */
async function scannedPayload(ctx: IssuerContext, text: string, view: CardView): Promise<ScannedPayload> {
  const { generation, keyId } = parsePayload(payloadFromText(text));
  const [verdict] = await ctx.issuer.judgePayloads([text]);
  return { generation, keyId, current: generation === view.generation && keyId === view.keyId, verdict: verdict.legal ? 'legal' : verdict.reason };
}

function scannedLine(s: ScannedPayload, view: CardView): string {
  const which = `generation ${s.generation}, issuer key ${s.keyId}`;
  if (!s.current) return `${which}: STALE — the card's current payload is generation ${view.generation}; this one is refused at every scan`;
  return s.verdict === 'legal' ? `${which}: current` : `${which}: current, but refused at scan: ${s.verdict}`;
}

function printView(out: Output, view: CardView, extra: Record<string, unknown> = {}): void {
  out.line(`card      ${view.maskedPan}`);
  out.line(`status    ${view.status}${view.pinFailures ? ` (${view.pinFailures} wrong PIN${view.pinFailures > 1 ? 's' : ''})` : ''}`);
  out.line(`payload   generation ${view.generation}, issuer key ${view.keyId}`);
  out.line(`limit     ${view.limit} ${view.currency} minor units per payment; balance ${view.balance}`);
  for (const [key, value] of Object.entries(extra)) out.line(`${key.padEnd(9)} ${String(value)}`);
}

type Action = 'issue' | 'reissue' | 'block' | 'unblock' | 'pin';
const VERB: Record<Action, string> = { issue: 'issued', reissue: 're-issued', block: 'blocked', unblock: 'unblocked', pin: 'changed the PIN of' };

/** The fields a command changed; a PIN change is named though the PIN is never shown. */
function changedFields(action: Action, before: CardView | null, after: CardView): string[] {
  const fields: string[] = action === 'pin' ? ['pin'] : [];
  if (before) for (const f of VIEW_FIELDS) if (before[f] !== after[f]) fields.push(f);
  return fields;
}

/** The first line of a changing command: what it changed, or that nothing needed changing. */
function changeLine(action: Action, before: CardView | null, after: CardView, changed: string[]): string {
  if (!before) return `issued a new card ${after.maskedPan}`;
  const diffs = (changed.filter((f) => f !== 'pin') as ViewField[]).map((f) => `${FIELD_LABEL[f]} ${String(before[f])} → ${String(after[f])}`);
  if (changed.length === 0) return `card ${after.maskedPan} was already ${after.status}: nothing changed`;
  const consequence = action === 'reissue' ? '; payloads of older generations are now illegal' : action === 'block' ? '; its payloads are now illegal' : '';
  return `${VERB[action]} card ${after.maskedPan}${diffs.length ? `: ${diffs.join(', ')}` : ''}${consequence}`;
}

interface Changed {
  action: Action;
  before: CardView | null;
  after: CardView;
  extra?: Record<string, unknown>;
}

function printChange(out: Output, json: boolean | undefined, { action, before, after, extra = {} }: Changed): void {
  const changed = changedFields(action, before, after);
  if (json) {
    out.json({ action, changed, ...(before ? { before } : {}), ...after, ...extra });
    return;
  }
  out.line(changeLine(action, before, after, changed));
  printView(out, after, extra);
}

async function issuedExtra(issued: IssuedCard, qrPath: string | undefined): Promise<Record<string, unknown>> {
  const extra: Record<string, unknown> = { payload: issued.payloadText };
  if (qrPath) {
    await writeQr(qrPath, issued.payloadText);
    extra.qr = `${qrPath} (QR version ${qrVersionOf(issued.payloadText)}, error correction ${QR_ERROR_CORRECTION})`;
  }
  return extra;
}

export function cardCommand(program: Command, out: Output): void {
  const card = program.command('card').description('issue and manage cards (needs --redis URL or REDIS_URL)');
  const globals = () => program.opts<GlobalOptions>();

  withJson(card.command('issue')
    .description('issue a card: store its mapping and print its payload (and QR)')
    .requiredOption('--pin <digits>', "the holder's 4-digit PIN")
    .requiredOption('--limit <minor>', 'largest single payment, in minor units (e.g. cents), ≥ 1')
    .requiredOption('--currency <code>', 'ISO 4217 currency code, e.g. EUR')
    .option('--balance <minor>', 'funds available, in minor units (default: the limit)')
    .option('--bin <digits>', 'issuer BIN (6-8 digits) the PAN starts with')
    .option('--qr <file>', 'write the payload QR code to file.png or file.svg'))
    .action(async (opts: { pin: string; limit: string; currency: string; balance?: string; bin?: string; qr?: string; json?: boolean }) => {
      if (!isPin(opts.pin)) throw usageError('--pin must be exactly 4 digits');
      const limit = parseInteger(opts.limit, '--limit', MIN_AMOUNT, MAX_MINOR_UNITS, ': a card with limit 0 could never pay');
      const balance = opts.balance === undefined ? undefined : parseInteger(opts.balance, '--balance', 0, MAX_MINOR_UNITS);
      if (!isKnownCurrency(opts.currency)) throw usageError('--currency must be an ISO 4217 code, e.g. EUR');
      if (opts.bin !== undefined) asUsage(() => assertBin(opts.bin!), '--bin must be 6 to 8 digits');
      const qrPath = await checkQrTarget(opts.qr);
      await withIssuer({ ...globals(), bin: opts.bin }, async ({ issuer }) => {
        const issued = await issuer.issueCard({ pin: opts.pin, limit, balance, currency: opts.currency });
        printChange(out, opts.json, { action: 'issue', before: null, after: issued.view, extra: await issuedExtra(issued, qrPath) });
      });
    });

  withJson(card.command('reissue <card>')
    .description('write a new payload (generation + 1) under the active key; older payloads become illegal')
    .option('--qr <file>', 'write the new payload QR code to file.png or file.svg'))
    .action(async (cardArg: string, opts: { qr?: string; json?: boolean }) => {
      const ref = await readCardArgument(cardArg, { pan: true });
      const qrPath = await checkQrTarget(opts.qr);
      await withIssuer(globals(), async (ctx) => {
        const pan = panOf(ctx, ref);
        const before = await ctx.issuer.viewCard(pan);
        const issued = await ctx.issuer.reissueCard(pan);
        printChange(out, opts.json, { action: 'reissue', before, after: issued.view, extra: await issuedExtra(issued, qrPath) });
      });
    });

  const change = (action: 'block' | 'unblock', description: string, act: (ctx: IssuerContext, pan: string) => Promise<CardView>) => {
    withJson(card.command(`${action} <card>`).description(description))
      .action(async (cardArg: string, opts: { json?: boolean }) => {
        const ref = await readCardArgument(cardArg, { pan: true });
        await withIssuer(globals(), async (ctx) => {
          const pan = panOf(ctx, ref);
          const before = await ctx.issuer.viewCard(pan);
          printChange(out, opts.json, { action, before, after: await act(ctx, pan) });
        });
      });
  };
  change('block', 'block a card: its payloads become illegal', (ctx, pan) => ctx.issuer.blockCard(pan));
  change('unblock', 'make a blocked or PIN-locked card active again (clears its wrong-PIN count)', (ctx, pan) => ctx.issuer.unblockCard(pan));

  withJson(card.command('pin <card>')
    .description("change a card's PIN (clears its wrong-PIN count)")
    .requiredOption('--pin <digits>', 'the new 4-digit PIN'))
    .action(async (cardArg: string, opts: { pin: string; json?: boolean }) => {
      if (!isPin(opts.pin)) throw usageError('--pin must be exactly 4 digits');
      const ref = await readCardArgument(cardArg, { pan: true });
      await withIssuer(globals(), async (ctx) => {
        const pan = panOf(ctx, ref);
        const before = await ctx.issuer.viewCard(pan);
        printChange(out, opts.json, { action: 'pin', before, after: await ctx.issuer.changePin(pan, opts.pin) });
      });
    });

  withJson(card.command('show <card>')
    .description("show a card's public view; given a payload or QR, also whether it is the card's current generation"))
    .action(async (cardArg: string, opts: { json?: boolean }) => {
      const ref = await readCardArgument(cardArg, { pan: true });
      await withIssuer(globals(), async (ctx) => {
        const view = await ctx.issuer.viewCard(panOf(ctx, ref));
        const scanned = ref.kind === 'payload' ? await scannedPayload(ctx, ref.text, view) : undefined;
        if (opts.json) out.json(scanned ? { ...view, scanned } : view);
        else printView(out, view, scanned ? { scanned: scannedLine(scanned, view) } : {});
      });
    });

  cardWalletCommands(card, globals, out);
}
