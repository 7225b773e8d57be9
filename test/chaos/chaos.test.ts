/**
 * The fast chaos scenarios (test/chaos/scenarios.ts, `npm run chaos -- --fast`) as tests: while six scanners pay
 * through a gateway on a private AOF Redis — and their merchant captures, voids and refunds what they took, over
 * the merchant API — Redis is killed and restarted, paused, made to refuse writes,
 * and crypto workers are terminated. Afterwards every approval a scanner saw is in the ledger once, every
 * capture, void and refund the merchant was told of is in it once (and nothing it was refused), no
 * scanner told "failed" was charged, every balance and receipt reconciles, the scanners were answered
 * with a retryable code (never INTERNAL, never silence), and the gateway served again by itself.
 * Needs redis-server on PATH: skipped loudly without it, failed under CI=true (describeRedis).
 */
import { expect, it } from 'vitest';
import { formatReport, runScenario, SCENARIOS, type ScenarioReport } from './scenarios.ts';
import { describeRedis, onPath } from '../support/redis.ts';

// Each scenario starts its own private redis-server; describeRedis only needs to know one can be started.
const redisServer = onPath('redis-server') ? { url: 'private redis-server per scenario', shared: false, stop: async () => {} } : null;

function check(report: ScenarioReport): void {
  console.log(formatReport(report).join('\n'));
  const c = report.reconciliation;
  expect(c.acknowledged).toBeGreaterThan(0);
  expect({ missing: c.missing, conflicting: c.conflictingReceipts, toldFailedButApproved: c.toldFailedButApproved, orphans: c.orphans, falseReplays: c.falseReplays })
    .toEqual({ missing: 0, conflicting: 0, toldFailedButApproved: 0, orphans: 0, falseReplays: 0 });
  expect(c.ledgerApprovals).toBe(c.acknowledged + c.unknownInLedger);
  expect(c.balanceMismatches).toBe(0);
  expect(c.balancesChecked).toBe(12);
  expect(c.receiptsBad).toBe(0);
  expect(c.receiptsChecked).toBeGreaterThanOrEqual(c.acknowledged);
  expect(c.ok).toBe(true);
  // money after the payment: every acknowledged capture, void and refund in the ledger once, nothing else in it
  const m = report.money;
  expect({ missing: m.missing, duplicated: m.duplicated, refusedButInLedger: m.refusedButInLedger, orphanEntries: m.orphanEntries, inconsistentPayments: m.inconsistentPayments })
    .toEqual({ missing: 0, duplicated: 0, refusedButInLedger: 0, orphanEntries: 0, inconsistentPayments: 0 });
  for (const kind of ['capture', 'void', 'refund'] as const) expect(m.operations[kind].acknowledged, kind).toBeGreaterThan(0);
  expect(m.paymentsChecked).toBe(c.ledgerApprovals);
  expect(m.ok).toBe(true);
  // answered with a typed, retryable code: never INTERNAL, and no scan left unanswered
  expect(report.errors.scan.INTERNAL ?? 0).toBe(0);
  expect(report.errors.pin.INTERNAL ?? 0).toBe(0);
  expect(report.errors.scan.timeout ?? 0).toBe(0);
  // serving again without a restart
  expect(report.recovery.readyzMs).not.toBeNull();
  expect(report.recovery.readyzMs!).toBeLessThan(2_000);
  expect(report.recovery.firstApprovalMs).not.toBeNull();
  expect(report.recovery.firstApprovalMs!).toBeLessThan(8_000);
}

const scenario = (name: string) => SCENARIOS.find((s) => s.name === name)!;

describeRedis(redisServer, 'chaos (fast scenarios)', () => {
  it('lists every fast scenario here', () => {
    expect(SCENARIOS.filter((s) => s.fast).map((s) => s.name).sort())
      .toEqual(['redis-kill-repeated', 'redis-kill-short', 'redis-paused', 'redis-refuses-writes', 'worker-exit']);
  });

  it('Redis SIGKILLed for 1 s and restarted: payments reconcile and serving resumes', async () => {
    // /readyz is not asserted here: a 1 s outage can end before a probe sent in it is answered on a loaded
    // machine (seen in CI); the paused scenario below holds the 503-within-1-s rule over a 3 s fault
    check(await runScenario(scenario('redis-kill-short')));
  }, 60_000);

  it('Redis SIGKILLed four times: payments reconcile', async () => {
    check(await runScenario(scenario('redis-kill-repeated')));
  }, 60_000);

  it('Redis paused past the command deadline: /readyz 503 within 1 s, payments reconcile', async () => {
    const report = await runScenario(scenario('redis-paused'));
    check(report);
    expect(report.readyzDuringFault?.status).toBe(503);
    expect(report.readyzDuringFault!.afterFaultMs).toBeLessThan(1_000);
    // no BUSY count is asserted: whether a command waits past its 2 s deadline depends on when it was sent
  }, 60_000);

  it('Redis refusing writes: BUSY at once, payments reconcile', async () => {
    const report = await runScenario(scenario('redis-refuses-writes'));
    check(report);
    expect((report.errors.scan.BUSY ?? 0) + (report.errors.pin.BUSY ?? 0)).toBeGreaterThan(0);
  }, 60_000);

  it('crypto workers terminated mid-load: no scanner sees it, payments reconcile', async () => {
    const report = await runScenario(scenario('worker-exit'));
    check(report);
    expect(report.poolErrors).not.toBeNull();
    // RATE_LIMITED is the card's cap on PIN attempts in flight (the fleet's scanners share cards): a retry answer any
    // card gives under concurrent use, longer-lived while a lost batch is re-run; anything else would be the exit showing
    const { RATE_LIMITED: _inFlightCap, ...pinErrors } = report.errors.pin;
    expect(Object.keys(report.errors.scan).length + Object.keys(pinErrors).length, JSON.stringify(report.errors)).toBe(0);
  }, 60_000);
});
