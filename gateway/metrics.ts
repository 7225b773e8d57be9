/**
 * Prometheus metrics (prom-client), one registry per gateway so tests can run several side by side.
 * Labels carry folded scanner codes and outcomes only: never a PAN, session id or scanner secret, and never
 * a precise legality reason (KEY_UNKNOWN vs PAYLOAD_TAG_INVALID would tell which issuer key ids exist).
 * Served on the ops listener only.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { OperationOutcome } from '../issuer/store/index.ts';
import type { FlowMetrics, OperationKind } from './flow/deps.ts';

const EVENT_LOOP_SAMPLE_MS = 100;

export class GatewayMetrics implements FlowMetrics {
  /**
   * The registry the ops listener serves. @internal — left out of the package's declarations (stripInternal), so
   * that they name no prom-client type; /metrics on the ops listener is the public face of these metrics.
   */
  readonly registry = new Registry();
  readonly #scans = new Counter({ name: 'scanpay_scans_total', help: 'Card scans judged, by outcome', labelNames: ['outcome'], registers: [this.registry] });
  readonly #illegal = new Counter({ name: 'scanpay_illegal_scans_total', help: 'Illegal card scans, by the code the scanner was told (S23)', labelNames: ['reason'], registers: [this.registry] });
  readonly #pins = new Counter({ name: 'scanpay_pin_attempts_total', help: 'PIN submissions, by result: correct, wrong, invalid (evaluated); refused, rejected (not evaluated)', labelNames: ['result'], registers: [this.registry] });
  readonly #payments = new Counter({ name: 'scanpay_payments_total', help: 'Payments, by outcome and reason', labelNames: ['outcome', 'reason'], registers: [this.registry] });
  readonly #steps = new Histogram({
    name: 'scanpay_step_seconds', help: 'Latency of a flow step inside the gateway', labelNames: ['step'], registers: [this.registry],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
  });
  readonly #batches = new Histogram({
    name: 'scanpay_batch_size', help: 'Records per crypto pool batch', labelNames: ['kind'], registers: [this.registry],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
  });
  readonly #rejected = new Counter({ name: 'scanpay_frames_rejected_total', help: 'Scanner frames answered with an error code', labelNames: ['code'], registers: [this.registry] });
  readonly #connections = new Gauge({ name: 'scanpay_scanner_connections', help: 'Open scanner WebSocket connections', registers: [this.registry] });

  readonly #poolErrors = new Counter({
    name: 'scanpay_pool_errors_total', help: 'Crypto pool faults: worker (failed outside a task), batch-retried (its worker died)',
    labelNames: ['where'], registers: [this.registry],
  });
  readonly #pinBudget = new Counter({
    name: 'scanpay_pin_budget_refusals_total', help: 'PINs refused because a scanner\'s (device) or a merchant\'s wrong-PIN budget is spent',
    labelNames: ['scope'], registers: [this.registry],
  });
  readonly #unhandledRejections = new Counter({
    name: 'scanpay_unhandled_rejections_total', help: 'Promise rejections nobody handled (logged, not fatal)', registers: [this.registry],
  });
  // money after the payment: the ledger's steps (whatever asked for them: a reversal's void or refund counts here
  // too), amounts in minor units by currency (the cards' currencies: a small set the issuer decides), never a merchant
  readonly #captures = new Counter({ name: 'scanpay_captures_total', help: 'Payments captured (merchant capture)', registers: [this.registry] });
  readonly #voids = new Counter({ name: 'scanpay_voids_total', help: 'Holds released by a void (merchant void, or a reversal of an uncaptured payment)', registers: [this.registry] });
  readonly #refunds = new Counter({ name: 'scanpay_refunds_total', help: 'Refunds made (merchant refund, or a reversal of a captured payment)', registers: [this.registry] });
  readonly #amounts = new Counter({
    name: 'scanpay_operation_amount_total', help: 'Minor units captured, voided (released) and refunded, by operation and currency',
    labelNames: ['operation', 'currency'], registers: [this.registry],
  });
  readonly #reversals = new Counter({
    name: 'scanpay_reversals_total', help: 'Reversals that decided an action (not replays), by action (voided, refunded, none) and who asked (scanner, merchant-api)',
    labelNames: ['action', 'via'], registers: [this.registry],
  });
  readonly #expired = new Counter({ name: 'scanpay_holds_expired_total', help: 'Holds released because their window passed (by this process\'s sweeper)', registers: [this.registry] });
  readonly #sweeps = new Counter({ name: 'scanpay_hold_sweeps_total', help: 'Hold expiry sweeps run by this process, by result (ok, failed)', labelNames: ['result'], registers: [this.registry] });
  readonly #webhooks = new Counter({
    name: 'scanpay_webhook_deliveries_total', help: 'Webhook delivery attempts by this process, by outcome: delivered, failed (retried later), given_up',
    labelNames: ['outcome'], registers: [this.registry],
  });
  readonly #sealed = new Counter({
    name: 'scanpay_journal_records_sealed_total', help: 'Events this process sealed into merchants\' journals', registers: [this.registry],
  });
  #queueDepth: () => number = () => 0;

  constructor() {
    // event-loop delay sampled every 100 ms: prom-client's 10 ms default woke this thread 100 times a second
    // (8 ms of CPU per second on an idle gateway, most of its cost per payment at light load)
    collectDefaultMetrics({ register: this.registry, prefix: 'scanpay_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    // both results from the start, so an alert on "failed, and none ok" sees the ok series at 0 (not absent)
    for (const result of ['ok', 'failed']) this.#sweeps.inc({ result }, 0);
    const depth = () => this.#queueDepth();
    new Gauge({
      name: 'scanpay_pool_queue_depth', help: 'Crypto requests waiting for or inside a pool batch', registers: [this.registry],
      collect() {
        this.set(depth());
      },
    });
  }

  /** Where the queue depth gauge reads from: the crypto engine, built after the metrics it reports to. */
  watchQueue(depth: () => number): void {
    this.#queueDepth = depth;
  }

  /** Counts promise rejections nobody handled (`count` of them: those seen before the metrics existed). */
  unhandledRejection(count = 1): void {
    this.#unhandledRejections.inc(count);
  }

  poolError(where: string): void {
    this.#poolErrors.inc({ where });
  }

  scan(outcome: 'legal' | 'illegal', code?: string): void {
    this.#scans.inc({ outcome });
    if (code) this.#illegal.inc({ reason: code });
  }

  pinAttempt(result: 'correct' | 'wrong' | 'invalid' | 'refused' | 'rejected'): void {
    this.#pins.inc({ result });
  }

  payment(outcome: 'approved' | 'declined', reason: string | null): void {
    this.#payments.inc({ outcome, reason: reason ?? 'none' });
  }

  pinBudgetSpent(scope: 'device' | 'merchant'): void {
    this.#pinBudget.inc({ scope });
  }

  stepSeconds(step: 'scan' | 'pin', seconds: number): void {
    this.#steps.observe({ step }, seconds);
  }

  batch(kind: string, size: number): void {
    this.#batches.observe({ kind }, size);
  }

  webhookAttempt(outcome: 'delivered' | 'failed' | 'given_up'): void {
    this.#webhooks.inc({ outcome });
  }

  sealed(records: number): void {
    this.#sealed.inc(records);
  }

  rejectedFrame(code: string): void {
    this.#rejected.inc({ code });
  }

  operation(kind: OperationKind, outcome: OperationOutcome, via: 'merchant-api' | 'scanner'): void {
    if (!outcome.ok || outcome.replayed) return;
    const { payment, refund } = outcome;
    if (kind === 'capture') {
      this.#captures.inc();
      this.#amounts.inc({ operation: 'capture', currency: payment.currency }, payment.capturedAmount);
    }
    const voided = kind === 'void' || (kind === 'reverse' && outcome.action === 'voided');
    if (voided) {
      this.#voids.inc();
      this.#amounts.inc({ operation: 'void', currency: payment.currency }, payment.amount);
    }
    if (refund) {
      this.#refunds.inc();
      this.#amounts.inc({ operation: 'refund', currency: refund.currency }, refund.amount);
    }
    if (kind === 'reverse' && outcome.action !== null) this.#reversals.inc({ action: outcome.action, via });
  }

  /** One run of the hold expiry sweeper: how many holds it released, or that it failed (the store could not be reached). */
  holdSweep(result: { released: number } | 'failed'): void {
    if (result === 'failed') return void this.#sweeps.inc({ result: 'failed' });
    this.#sweeps.inc({ result: 'ok' });
    if (result.released > 0) this.#expired.inc(result.released);
  }

  connections(count: number): void {
    this.#connections.set(count);
  }
}
