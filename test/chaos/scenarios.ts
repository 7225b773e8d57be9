/**
 * The chaos scenarios (issue 9 item 4) and the rig each runs in: a private AOF Redis (aof-redis.ts), cards
 * issued on it, a gateway on it (in this process, or a child process for the gateway kill), a fleet of
 * paying scanners (scanners.ts), the merchant's back office capturing, voiding and refunding what they were
 * paid over the merchant API (money.ts), a /readyz prober, and after the fault and a calm tail, the
 * reconciliations of both (reconcile.ts, money.ts). Everything a scenario starts is stopped by it, by PID or by its own close().
 * @example
 *   const report = await runScenario(SCENARIOS.find((s) => s.name === 'redis-kill-short')!);
 *   console.log(formatReport(report).join('\n'));
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { loadCore } from '../../core/index.ts';
import { createLogger } from '../../gateway/log.ts';
import { CryptoPool } from '../../gateway/pool/crypto-pool.ts';
import { startGateway, type Gateway } from '../../gateway/server.ts';
import { GATEWAY_DEFAULTS } from '../../gateway/defaults.ts';
import { Issuer } from '../../issuer/issuer.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { RedisStore } from '../../issuer/store/redis-store.ts';
import { deviceSecret, signScannerToken } from '../../protocol/scanner-token.ts';
import { metricValue, PIN } from '../support/gateway-fixture.ts';
import { spawnGatewayChild, type GatewayProcess } from '../support/gateway-process.ts';
import { freePort } from '../support/redis.ts';
import { AofRedis } from './aof-redis.ts';
import { createMerchant } from '../support/merchant-api.ts';
import { MoneyOperator, reconcileMoney, type MoneyReconciliation } from './money.ts';
import { reconcile, type Reconciliation } from './reconcile.ts';
import { CHAOS_MERCHANT, ScannerFleet, type ChaosCard } from './scanners.ts';

const INITIAL_BALANCE = 10_000_000;
const CARDS = 12;
const PREFIX = 'scanpay-chaos:';
/** After the tail, how long the fleet keeps paying while no approval has come since the fault cleared. */
const RECOVERY_WAIT_MS = 15_000;
/** The gateway's frame limits are raised: the fleet pays as fast as it can, and rate limits are not under test here. */
const GATEWAY_LIMITS = { pinPaceMs: 0, framesPerSecond: 2_000, burst: 4_000 };

/** What a scenario can do to the system while the fleet pays. */
export interface Rig {
  redis: AofRedis;
  /** The in-process gateway's crypto pool (null when the gateway is a child process). */
  pool: CryptoPool | null;
  killGateway(): Promise<void>; // child process only: SIGKILL
  restartGateway(): Promise<void>; // child process only: a new one on the same ports
  /** Records what was injected, when (the first call marks the fault's start). */
  injected(what: string): void;
  /** Marks the moment the fault was cleared (recovery is timed from here). */
  cleared(what: string): void;
}

export interface Scenario {
  name: string;
  fast: boolean;
  gateway: 'in-process' | 'child-process';
  inject(rig: Rig): Promise<void>;
}

async function redisOutage(rig: Rig, downMs: number): Promise<void> {
  const pid = rig.redis.pid;
  await rig.redis.kill();
  rig.injected(`SIGKILL redis-server pid ${pid}`);
  await sleep(downMs);
  await rig.redis.restart();
  rig.cleared(`redis-server restarted on the same port and dir after ${downMs} ms down (pid ${rig.redis.pid}, AOF reloaded)`);
}

export const SCENARIOS: Scenario[] = [
  { name: 'redis-kill-short', fast: true, gateway: 'in-process', inject: (rig) => redisOutage(rig, 1_000) },
  { name: 'redis-kill-long', fast: false, gateway: 'in-process', inject: (rig) => redisOutage(rig, 5_000) },
  {
    name: 'redis-kill-repeated', fast: true, gateway: 'in-process',
    async inject(rig) {
      for (let i = 1; i <= 4; i++) {
        const pid = rig.redis.pid;
        await rig.redis.kill();
        rig.injected(`SIGKILL ${i}/4 of redis-server pid ${pid}`);
        await sleep(200 + Math.random() * 300);
        await rig.redis.restart();
        if (i < 4) await sleep(700);
      }
      rig.cleared('redis-server restarted after the 4th kill');
    },
  },
  {
    name: 'redis-paused', fast: true, gateway: 'in-process',
    async inject(rig) {
      await rig.redis.command('CLIENT', 'PAUSE', 3_000, 'ALL');
      rig.injected('CLIENT PAUSE 3000 ALL (every client command waits 3 s, past the 2 s command deadline)');
      await sleep(3_000);
      rig.cleared('pause over');
    },
  },
  {
    name: 'redis-refuses-writes', fast: true, gateway: 'in-process',
    async inject(rig) {
      await rig.redis.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
      await rig.redis.command('CONFIG', 'SET', 'maxmemory', 1);
      rig.injected('CONFIG SET maxmemory 1, maxmemory-policy noeviction (every write refused with OOM)');
      await sleep(2_500);
      await rig.redis.command('CONFIG', 'SET', 'maxmemory', 0);
      rig.cleared('CONFIG SET maxmemory 0 (no limit)');
    },
  },
  {
    name: 'worker-exit', fast: true, gateway: 'in-process',
    async inject(rig) {
      for (let i = 1; i <= 3; i++) {
        if (!(await rig.pool!.terminateWorker())) throw new Error('no crypto worker to terminate');
        rig.injected(`terminated crypto worker thread ${i}/3 mid-load (piscina replaces it)`);
        await sleep(600);
      }
      rig.cleared('last worker terminated');
    },
  },
  {
    name: 'gateway-kill', fast: false, gateway: 'child-process',
    async inject(rig) {
      await rig.killGateway();
      rig.injected('SIGKILL the gateway process');
      await sleep(500);
      await rig.restartGateway();
      rig.cleared('a new gateway process serves on the same port');
    },
  },
];

interface ReadyProbe {
  at: number; // when the probe started
  ms: number; // how long the answer took
  status: number | 'error';
}

export interface ScenarioReport {
  name: string;
  scanners: number;
  injected: { atMs: number; what: string }[];
  cleared: { atMs: number; what: string } | null;
  sessions: number;
  errors: Record<'scan' | 'pin' | 'connect', Record<string, number>>;
  maxErrorAnswerMs: number;
  connects: number;
  poolErrors: { worker: number; batchRetried: number } | null;
  /** The first /readyz answer after the fault started, and how long after the start it came. */
  readyzDuringFault: { status: number | 'error'; afterFaultMs: number; answerMs: number } | null;
  recovery: { firstApprovalMs: number | null; readyzMs: number | null };
  reconciliation: Reconciliation;
  money: MoneyReconciliation;
  durationMs: number;
}

/** Polls /readyz every 100 ms (each probe given 1.5 s) until stopped. */
function probeReadiness(url: () => string): { probes: ReadyProbe[]; stop(): Promise<void> } {
  const probes: ReadyProbe[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      let status: number | 'error';
      try {
        status = (await fetch(`${url()}/readyz`, { signal: AbortSignal.timeout(1_500) })).status;
      } catch {
        status = 'error';
      }
      probes.push({ at, ms: Date.now() - at, status });
      await sleep(Math.max(0, 100 - (Date.now() - at)));
    }
  })();
  return { probes, stop: async () => ((running = false), await loop) };
}

export interface RunOptions {
  scanners?: number;
  warmMs?: number; // paying before the fault
  tailMs?: number; // paying after the fault cleared
  log?: (line: string) => void;
}

export async function runScenario(scenario: Scenario, opts: RunOptions = {}): Promise<ScenarioReport> {
  const scanners = opts.scanners ?? 6;
  const started = Date.now();
  const redis = await AofRedis.start();
  if (!redis) throw new Error('chaos needs redis-server on PATH (Debian package redis-server)');
  const stops: (() => Promise<void>)[] = [() => redis.stop()];
  try {
    const prefix = `${PREFIX}${randomUUID().slice(0, 8)}:`;
    const store = await RedisStore.connect(redis.url, { prefix });
    stops.unshift(() => store.close());
    const keyRing = IssuerKeyRing.generate();
    const fleetKey = new Uint8Array(randomBytes(32));
    const issuer = new Issuer({ core: await loadCore(), store, keyRing });
    const cards: ChaosCard[] = [];
    for (let i = 0; i < CARDS; i++) {
      const card = await issuer.issueCard({ pin: PIN, limit: 1_000_000, balance: INITIAL_BALANCE, currency: 'EUR' });
      cards.push({ token: keyRing.cardToken(card.pan), payloadText: card.payloadText });
    }

    const apiKey = await createMerchant(store, fleetKey, CHAOS_MERCHANT);

    let pool: CryptoPool | null = null;
    let endpoints: { scannerUrl: string; opsUrl: string; merchantUrl: string };
    let child: GatewayProcess | null = null;
    let gateway: Gateway | null = null;
    let childOptions: Record<string, number> = {};
    if (scenario.gateway === 'in-process') {
      const gatewayStore = await RedisStore.connect(redis.url, { prefix });
      gateway = await startGateway({
        store: gatewayStore, keyRing, fleetKey, port: 0, logger: createLogger({ level: process.env.CHAOS_LOG ?? 'silent', destination: process.stderr }), ...GATEWAY_LIMITS,
        engine: ({ keys, onBatch, onError }) => (pool = new CryptoPool({ keys, threads: 2, batch: GATEWAY_DEFAULTS.batch, onBatch, onError })),
      });
      const gw = gateway;
      stops.unshift(async () => {
        await gw.close(5_000);
        await gatewayStore.close();
      });
      endpoints = gateway;
    } else {
      childOptions = { ...GATEWAY_LIMITS, port: await freePort(), opsPort: await freePort(), merchantPort: await freePort() };
      child = await spawnGatewayChild({ redisUrl: redis.url, prefix, keyRing, fleetKey, options: childOptions });
      stops.unshift(async () => child?.stop());
      endpoints = child;
    }

    const injected: ScenarioReport['injected'] = [];
    let cleared: ScenarioReport['cleared'] = null;
    let faultAt = 0;
    let clearedAt = 0;
    const rig: Rig = {
      redis, pool,
      async killGateway() {
        if (!child) throw new Error('the gateway runs in this process');
        await child.kill();
      },
      async restartGateway() {
        child = await spawnGatewayChild({ redisUrl: redis.url, prefix, keyRing, fleetKey, options: childOptions });
        endpoints = child;
      },
      injected(what) {
        faultAt ||= Date.now();
        injected.push({ atMs: Date.now() - started, what });
        opts.log?.(`  inject +${((Date.now() - started) / 1000).toFixed(2)} s: ${what}`);
      },
      cleared(what) {
        clearedAt = Date.now();
        cleared = { atMs: clearedAt - started, what };
        opts.log?.(`  clear  +${((clearedAt - started) / 1000).toFixed(2)} s: ${what}`);
      },
    };

    const fleet = new ScannerFleet({
      scannerUrl: () => endpoints.scannerUrl,
      token: (deviceId) => signScannerToken(deviceId, deviceSecret(fleetKey, deviceId), Date.now()),
      cards, scanners, bind: (deviceId) => store.bindDevice(deviceId, CHAOS_MERCHANT),
    });
    const money = new MoneyOperator({ merchantUrl: () => endpoints.merchantUrl, apiKey, merchant: CHAOS_MERCHANT, fleet });
    const readiness = probeReadiness(() => endpoints.opsUrl);
    await fleet.start();
    money.start();
    await sleep(opts.warmMs ?? 1_500);
    await scenario.inject(rig);
    if (!clearedAt) throw new Error(`${scenario.name} never cleared its fault`);
    await sleep(opts.tailMs ?? 3_000);
    // scanners stuck on a session that never finishes give up after their patience (5 s) and scan again:
    // keep paying until the first approval after the fault, up to RECOVERY_WAIT_MS, so recovery is measured
    for (const until = Date.now() + RECOVERY_WAIT_MS; Date.now() < until && !fleet.approvalsAt.some((t) => t >= clearedAt);) await sleep(50);
    await fleet.stop();
    await money.stop();
    await readiness.stop();

    const metrics = pool ? await (await fetch(`${endpoints.opsUrl}/metrics`)).text() : null;
    const admin = new Redis(redis.url);
    let reconciliation: Reconciliation;
    let moneyReconciliation: MoneyReconciliation;
    try {
      reconciliation = await reconcile({ fleet, store, redis: admin, prefix, cards, initialBalance: INITIAL_BALANCE });
      moneyReconciliation = await reconcileMoney(money, store, CHAOS_MERCHANT, reconciliation.approvedIds);
    } finally {
      admin.disconnect();
    }
    // a probe answered during the fault (one in flight when it began counts: its store ping met the fault), sent
    // before it cleared: the first that said 503 (it may finish just after a short fault clears), else the first
    const sentDuringFault = readiness.probes.filter((p) => p.at + p.ms >= faultAt && p.at < clearedAt);
    const duringFault = sentDuringFault.find((p) => p.status === 503) ?? sentDuringFault[0] ?? null;
    const readyAgain = readiness.probes.find((p) => p.at >= clearedAt && p.status === 200);
    const firstApproval = fleet.approvalsAt.find((t) => t >= clearedAt);
    const tally = (m: Map<string, number>) => Object.fromEntries([...m].sort());
    return {
      name: scenario.name, scanners, injected, cleared, sessions: fleet.sessions.size,
      errors: { scan: tally(fleet.errors.scan), pin: tally(fleet.errors.pin), connect: tally(fleet.errors.connect) },
      maxErrorAnswerMs: Math.max(0, ...fleet.errorLatencies),
      connects: fleet.connects,
      poolErrors: metrics === null ? null : {
        worker: metricValue(metrics, 'scanpay_pool_errors_total', { where: 'worker' }),
        batchRetried: metricValue(metrics, 'scanpay_pool_errors_total', { where: 'batch-retried' }),
      },
      readyzDuringFault: duringFault && { status: duringFault.status, afterFaultMs: duringFault.at + duringFault.ms - faultAt, answerMs: duringFault.ms },
      recovery: {
        firstApprovalMs: firstApproval === undefined ? null : firstApproval - clearedAt,
        readyzMs: readyAgain ? readyAgain.at + readyAgain.ms - clearedAt : null,
      },
      reconciliation,
      money: moneyReconciliation,
      durationMs: Date.now() - started,
    };
  } finally {
    for (const stop of stops) await stop().catch(() => {});
  }
}

const codes = (m: Record<string, number>) => (Object.keys(m).length ? Object.entries(m).map(([k, v]) => `${k} ${v}`).join(', ') : 'none');

/** The report as printed lines. */
export function formatReport(r: ScenarioReport): string[] {
  const c = r.reconciliation;
  const ready = r.readyzDuringFault;
  return [
    `[${r.name}] injected: ${r.injected.map((i) => `+${(i.atMs / 1000).toFixed(2)} s ${i.what}`).join('; ')}; cleared +${((r.cleared?.atMs ?? 0) / 1000).toFixed(2)} s: ${r.cleared?.what}`,
    `[${r.name}] load: ${r.scanners} scanners, ${r.sessions} sessions, ${r.connects} connections; errors told — scan: ${codes(r.errors.scan)}; pin: ${codes(r.errors.pin)}; upgrade: ${codes(r.errors.connect)}; slowest error answer ${r.maxErrorAnswerMs} ms`
      + (r.poolErrors ? `; pool errors: worker ${r.poolErrors.worker}, batches retried ${r.poolErrors.batchRetried}` : ''),
    `[${r.name}] /readyz during the fault: ${ready ? `${ready.status} in ${ready.answerMs} ms, ${ready.afterFaultMs} ms after the fault started` : 'no probe was sent inside the fault window'}`,
    `[${r.name}] reconciliation: acknowledged approvals ${c.acknowledged} + unknown to the scanner, in the ledger ${c.unknownInLedger} = ledger approvals ${c.ledgerApprovals} (each once: missing ${c.missing}, conflicting receipts ${c.conflictingReceipts}); `
      + `told failed but approved ${c.toldFailedButApproved}; unknown, not in the ledger ${c.unknownNotInLedger}; orphans ${c.orphans}; false replays ${c.falseReplays}; ledger declines ${c.ledgerDeclines}; `
      + `balances ${c.balancesChecked - c.balanceMismatches}/${c.balancesChecked} reconcile; receipts ${c.receiptsChecked - c.receiptsBad}/${c.receiptsChecked} verify → ${c.ok ? 'OK' : 'FAILED'}`,
    `[${r.name}] money: ${(['capture', 'void', 'refund'] as const).map((k) => `${k}s ${r.money.operations[k].acknowledged} acknowledged, ${r.money.operations[k].refused} refused, ${r.money.operations[k].unknown} unknown`).join('; ')}; `
      + `retried failures: ${codes(r.money.retriedFailures)}; in the ledger once: missing ${r.money.missing}, duplicated ${r.money.duplicated}, refused but in the ledger ${r.money.refusedButInLedger}, orphan entries ${r.money.orphanEntries}; `
      + `payments ${r.money.paymentsChecked - r.money.inconsistentPayments}/${r.money.paymentsChecked} consistent over ${r.money.entriesChecked} entries → ${r.money.ok ? 'OK' : 'FAILED'}`,
    `[${r.name}] recovery: first approved payment ${r.recovery.firstApprovalMs ?? 'never'} ms after the fault cleared; /readyz 200 after ${r.recovery.readyzMs ?? 'never'} ms; scenario took ${(r.durationMs / 1000).toFixed(1)} s`,
  ];
}
