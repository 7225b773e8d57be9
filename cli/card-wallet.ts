/**
 * `scanpay card wallets | wallet-revoke | policy`: a card's wallet enrolments (the phones that show its one-time
 * codes), revoking one, and the card's wallet policy (its printed QR, and how far a code stands in for the PIN).
 * A card is named as the other card commands name it; an enrolment by its id. Every changing command says what it
 * changed, or that nothing needed changing.
 */
import type { Command } from 'commander';
import type { CardView } from '../issuer/issuer.ts';
import { STATIC_QR_POLICIES, type CardPolicy, type EnrolmentRecord, type StaticQrPolicy } from '../issuer/store/wallet-types.ts';
import { MAX_MINOR_UNITS } from '../protocol/values.ts';
import { readCardArgument, type CardArgument } from './card-ref.ts';
import { withIssuer, type GlobalOptions, type IssuerContext } from './context.ts';
import { unknownEnrolment, usageError } from './errors.ts';
import { parseInteger, withJson, type Output } from './output.ts';

const ENROLMENT_ID = /^[0-9a-f]{32}$/;

function panOf(ctx: IssuerContext, card: CardArgument): string {
  return card.kind === 'pan' ? card.pan : ctx.issuer.panOfPayload(card.text);
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

/** An enrolment as the listing shows it, JSON and text alike. */
function shown(e: EnrolmentRecord) {
  return { id: e.id, createdAt: iso(e.createdAt), status: e.status, revokedAt: e.revokedAt === null ? null : iso(e.revokedAt), lastCounter: e.lastCounter };
}

/** The policy in words: what a scan of the printed QR gets, and what a one-time code does without a PIN. */
function policyLines(policy: CardPolicy, currency: string): string[] {
  const staticQr = {
    allowed: 'allowed (any amount)',
    limit: `allowed up to ${policy.staticQrLimit} ${currency} minor units`,
    'refused-when-enrolled': 'refused while a wallet is enrolled',
  }[policy.staticQr];
  const codes = policy.codeNoPinLimit === 0 ? 'every payment asks the PIN on the phone' : `no PIN up to ${policy.codeNoPinLimit} ${currency} minor units, the PIN on the phone above`;
  return [`static QR ${staticQr}`, `codes     ${codes}`];
}

const POLICY_LABEL: Record<keyof CardPolicy, string> = { staticQr: 'static QR', staticQrLimit: 'static-QR limit', codeNoPinLimit: 'code no-PIN limit' };

export function cardWalletCommands(card: Command, globals: () => GlobalOptions, out: Output): void {
  withJson(card.command('wallets <card>')
    .description("list a card's wallet enrolments: id, created, status, last code counter"))
    .action(async (cardArg: string, opts: { json?: boolean }) => {
      const ref = await readCardArgument(cardArg, { pan: true });
      await withIssuer(globals(), async (ctx) => {
        const { view, policy, enrolments } = await ctx.issuer.walletsOf(panOf(ctx, ref));
        if (opts.json) {
          out.json({ maskedPan: view.maskedPan, policy, enrolments: enrolments.map(shown) });
          return;
        }
        const active = enrolments.filter((e) => e.status === 'active').length;
        out.line(`card ${view.maskedPan}: ${enrolments.length} wallet${enrolments.length === 1 ? '' : 's'} (${active} active)`);
        if (enrolments.length > 0) {
          out.line(`${'id'.padEnd(32)}  ${'created'.padEnd(24)}  ${'status'.padEnd(7)}  last counter`);
          for (const e of enrolments.map(shown)) out.line(`${e.id}  ${e.createdAt}  ${e.status.padEnd(7)}  ${e.lastCounter}${e.revokedAt ? `  (revoked ${e.revokedAt})` : ''}`);
        }
        for (const line of policyLines(policy, view.currency)) out.line(line);
      });
    });

  withJson(card.command('wallet-revoke <enrolment-id>')
    .description('revoke a wallet enrolment: its codes are refused from now on, on every gateway (idempotent)'))
    .action(async (id: string, opts: { json?: boolean }) => {
      if (!ENROLMENT_ID.test(id)) throw usageError('<enrolment-id> must be 32 lowercase hex characters (`scanpay card wallets <card>` lists them)');
      await withIssuer(globals(), async (ctx) => {
        const { outcome, enrolment } = await ctx.issuer.revokeWallet(id);
        if (outcome === 'unknown' || !enrolment) throw unknownEnrolment(id);
        if (opts.json) {
          out.json({ outcome, enrolment: shown(enrolment) });
          return;
        }
        out.line(outcome === 'revoked'
          ? `revoked wallet ${id}: its codes are refused from now on`
          : `wallet ${id} was already revoked (${iso(enrolment.revokedAt)}): nothing changed`);
      });
    });

  withJson(card.command('policy <card>')
    .description("show or change a card's wallet policy (without options: show it)")
    .option('--static-qr <policy>', `a scan of the printed QR: ${STATIC_QR_POLICIES.join(' | ')}`)
    .option('--static-qr-limit <minor>', 'with --static-qr limit: the largest payment by printed QR, minor units')
    .option('--code-no-pin-limit <minor>', 'a one-time code stands in for the PIN up to this amount, minor units (0: always the PIN)'))
    .action(async (cardArg: string, opts: { staticQr?: string; staticQrLimit?: string; codeNoPinLimit?: string; json?: boolean }) => {
      const change: Partial<CardPolicy> = {};
      if (opts.staticQr !== undefined) {
        if (!STATIC_QR_POLICIES.includes(opts.staticQr as StaticQrPolicy)) throw usageError(`--static-qr must be one of ${STATIC_QR_POLICIES.join(', ')}`);
        change.staticQr = opts.staticQr as StaticQrPolicy;
      }
      if (opts.staticQrLimit !== undefined) change.staticQrLimit = parseInteger(opts.staticQrLimit, '--static-qr-limit', 0, MAX_MINOR_UNITS);
      if (opts.codeNoPinLimit !== undefined) change.codeNoPinLimit = parseInteger(opts.codeNoPinLimit, '--code-no-pin-limit', 0, MAX_MINOR_UNITS);
      const ref = await readCardArgument(cardArg, { pan: true });
      await withIssuer(globals(), async (ctx) => {
        const pan = panOf(ctx, ref);
        if (Object.keys(change).length === 0) {
          const { view, policy } = await ctx.issuer.walletsOf(pan);
          printPolicy(out, opts.json, view, policy, policy, []);
          return;
        }
        // the options are judged against the policy they would make, before anything is written
        const { policy: current } = await ctx.issuer.walletsOf(pan);
        const next = { ...current, ...change };
        if (change.staticQrLimit !== undefined && next.staticQr !== 'limit') throw usageError('--static-qr-limit applies to --static-qr limit only');
        if (change.staticQr === 'limit' && change.staticQrLimit === undefined && current.staticQr !== 'limit') throw usageError('--static-qr limit needs --static-qr-limit <minor>');
        const { view, before, after } = await ctx.issuer.setCardPolicy(pan, change);
        const changed = (Object.keys(after) as (keyof CardPolicy)[]).filter((k) => before[k] !== after[k]);
        printPolicy(out, opts.json, view, before, after, changed, true);
      });
    });
}

function printPolicy(out: Output, json: boolean | undefined, view: CardView, before: CardPolicy, after: CardPolicy, changed: (keyof CardPolicy)[], asked = false): void {
  if (json) {
    out.json({ maskedPan: view.maskedPan, policy: after, ...(asked ? { changed } : {}) });
    return;
  }
  if (asked) {
    out.line(changed.length === 0
      ? `card ${view.maskedPan}'s wallet policy was already so: nothing changed`
      : `changed the wallet policy of card ${view.maskedPan}: ${changed.map((k) => `${POLICY_LABEL[k]} ${String(before[k])} → ${String(after[k])}`).join(', ')}`);
  } else out.line(`card      ${view.maskedPan}`);
  for (const line of policyLines(after, view.currency)) out.line(line);
}
