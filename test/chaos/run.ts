/**
 * `npm run chaos`: every scenario of test/chaos/scenarios.ts, one after another, each on its own private
 * AOF Redis; `npm run chaos -- --fast` runs the fast ones only (the ones chaos.test.ts runs too), and
 * `--only <name>` one. Prints what each injected, its reconciliation and its recovery time; exits 1 if any
 * scenario fails to reconcile.
 */
import { Command } from 'commander';
import { formatReport, runScenario, SCENARIOS } from './scenarios.ts';

const program = new Command('chaos')
  .option('--fast', 'only the fast scenarios')
  .option('--only <name>', `one scenario: ${SCENARIOS.map((s) => s.name).join(', ')}`)
  .option('--scanners <n>', 'paying scanners per scenario', (v) => Number.parseInt(v, 10), 6)
  .parse();
const opts = program.opts<{ fast?: boolean; only?: string; scanners: number }>();

let unhandled = 0;
process.on('unhandledRejection', (e) => {
  unhandled++;
  console.error(`unhandled rejection: ${(e as Error)?.stack ?? e}`);
});

const chosen = SCENARIOS.filter((s) => (opts.only ? s.name === opts.only : !opts.fast || s.fast));
if (chosen.length === 0) program.error(`no scenario named ${opts.only}`);
let failed = 0;
for (const scenario of chosen) {
  console.log(`\n== ${scenario.name} (${scenario.gateway} gateway, ${opts.scanners} scanners)`);
  try {
    const report = await runScenario(scenario, { scanners: opts.scanners, log: (line) => console.log(line) });
    for (const line of formatReport(report)) console.log(line);
    if (!report.reconciliation.ok || !report.money.ok || report.recovery.firstApprovalMs === null) failed++;
  } catch (e) {
    failed++;
    console.log(`[${scenario.name}] FAILED to run: ${(e as Error).stack}`);
  }
}
console.log(`\nchaos: ${chosen.length - failed}/${chosen.length} scenarios reconciled and recovered; unhandled rejections in this process: ${unhandled}`);
process.exit(failed > 0 || unhandled > 0 ? 1 : 0);
