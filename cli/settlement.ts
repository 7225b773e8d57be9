/**
 * `scanpay settlement …` and `scanpay journal …`: a merchant's end of day and its audit (docs/ledger.md).
 * `settlement close --merchant M [--period P]` closes the open period (or P, if it is the open one; a period
 * already closed is shown as it was closed, so running it again closes nothing more); `settlement report --merchant M
 * --period P|current [--csv|--json]` prints a period's report; `journal verify --merchant M` checks the merchant's
 * hash-chained journal against itself and the payments (exit 1 with each problem when it fails).
 */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { ScanpayError } from '../core/errors.ts';
import { verifyJournal } from '../issuer/journal.ts';
import { closeSettlementPeriod, openPeriod, settlementCsv, settlementReport, type SettlementReport } from '../issuer/settlement.ts';
import type { Store } from '../issuer/store/types.ts';
import { parseMerchant } from '../protocol/values.ts';
import { openPersistentStore, type GlobalOptions } from './context.ts';
import { CliError, EXIT, asUsage } from './errors.ts';
import { parseInteger, withJson, type Output } from './output.ts';

const NEEDS_STORE = 'needs --redis, REDIS_URL or REDIS_CLUSTER_NODES';

async function withLedgerStore<T>(opts: GlobalOptions, body: (store: Store) => Promise<T>): Promise<T> {
  const store = await openPersistentStore(opts, 'ledger');
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

const merchantOf = (raw: string) => asUsage(() => parseMerchant(raw), '--merchant must be 1 to 64 of [A-Za-z0-9._-]');
const when = (at: number | null) => (at === null ? '-' : new Date(at).toISOString());

function printReport(out: Output, r: SettlementReport): void {
  out.line(`merchant ${r.merchant}, period ${r.period} (${r.status}): opened ${when(r.openedAt)}, closed ${when(r.closedAt)}`);
  out.line(`  journal records ${r.firstSeq}..${r.lastSeq}${r.closingHash ? `, closing hash ${r.closingHash}` : ''}; ${r.entries.length} ledger entries`);
  for (const t of r.currencies) {
    out.line(`  ${t.currency}: captures ${t.captures.count} (${t.captures.amount}), refunds ${t.refunds.count} (${t.refunds.amount}), `
      + `voids ${t.voids.count} (${t.voids.amount}), expiries ${t.expiries.count} (${t.expiries.amount}), reversals ${t.reversals.count} (${t.reversals.amount}); net ${t.net}`);
  }
}

export function settlementCommand(program: Command, out: Output): void {
  const globals = () => program.opts<GlobalOptions>();
  const settlement = program.command('settlement').description('a merchant\'s settlement periods: close the day, and its report');

  withJson(settlement.command('close')
    .description(`closes the merchant's open settlement period (${NEEDS_STORE})`)
    .requiredOption('--merchant <id>', 'the merchant')
    .option('--period <n>', 'close this period, if it is the open one (a closed one is shown as it was closed)'))
    .action(async (opts: { merchant: string; period?: string; json?: boolean }) => {
      const merchant = merchantOf(opts.merchant);
      const wanted = opts.period === undefined ? undefined : parseInteger(opts.period, '--period', 1, Number.MAX_SAFE_INTEGER);
      const period = await withLedgerStore(globals(), async (store) => closeSettlementPeriod(store, merchant, wanted ?? await openPeriod(store, merchant), {
        owner: `cli:${hostname()}:${process.pid}`, now: Date.now(),
      }));
      if (opts.json) return out.json(period);
      out.line(`closed period ${period.period} of ${merchant} at ${when(period.closedAt)}: journal records ${period.firstSeq}..${period.lastSeq}, closing hash ${period.closingHash}`);
    });

  withJson(settlement.command('report')
    .description(`a settlement period's report: totals per currency and every ledger entry in it (${NEEDS_STORE})`)
    .requiredOption('--merchant <id>', 'the merchant')
    .requiredOption('--period <n>', 'the period: a number, or `current` (the open one)')
    .option('--csv', 'print CSV: one row per entry, then the totals'))
    .action(async (opts: { merchant: string; period: string; csv?: boolean; json?: boolean }) => {
      const merchant = merchantOf(opts.merchant);
      const report = await withLedgerStore(globals(), async (store) => {
        const period = opts.period === 'current' ? await openPeriod(store, merchant) : parseInteger(opts.period, '--period', 1, Number.MAX_SAFE_INTEGER);
        return settlementReport(store, merchant, period);
      });
      if (!report) throw new ScanpayError('PERIOD_NOT_FOUND', `${merchant} has no period ${opts.period}`);
      if (opts.csv) return out.line(settlementCsv(report).slice(0, -1)); // its last CRLF: the line's own \n after the \r
      if (opts.json) return out.json(report);
      printReport(out, report);
    });

  const journal = program.command('journal').description('a merchant\'s hash-chained journal of money-moving events');
  withJson(journal.command('verify')
    .description(`checks every record's hash and link, every event against its hash, and every ledger entry against the events (${NEEDS_STORE})`)
    .requiredOption('--merchant <id>', 'the merchant'))
    .action(async (opts: { merchant: string; json?: boolean }) => {
      const merchant = merchantOf(opts.merchant);
      const report = await withLedgerStore(globals(), (store) => verifyJournal(store, merchant));
      if (opts.json) out.json(report);
      else {
        out.line(`journal of ${merchant}: ${report.records} records, ${report.payments} payments: ${report.ok ? 'intact' : `${report.problems.length} problems`}`);
        for (const p of report.problems) out.line(`  ${p}`);
      }
      if (!report.ok) throw new CliError('JOURNAL_BROKEN', `the journal of ${merchant} failed verification`, EXIT.REFUSED);
    });
}
