/**
 * Every default of a gateway, in one place: what `startGateway` takes for an option left out (server.ts) and what
 * `npm start` takes for a variable left unset (config.ts). Where the two differ it is on purpose, and the name
 * says why: `npm start` listens for operators on a fixed ops port a scrape config can name, and for merchants on a
 * fixed merchant API port; an embedder's gateway takes any free ones (several may run in one process or on one host).
 */
import { DEFAULT_HOLD_WINDOW_MS } from '../issuer/payment.ts';
import { DEFAULT_PIN_BUDGET, type PinBudget, type RateLimit } from '../issuer/store/index.ts';
import { DEFAULT_WEBHOOK_SETTINGS } from './webhooks/delivery-loop.ts';
import type { PinEntry } from '../protocol/values.ts';

/** The auth page's budgets (docs/protocol.md §9). */
export interface PageLimits {
  perAddress: RateLimit; // PIN posts with the page token from one client address, over every session (in the store)
  perSession: RateLimit; // PIN posts with the page token for one session: it takes one PIN, the rest are retries (in the store)
  refusedPerAddress?: RateLimit; // requests without a valid page token from one client address (in this process)
  viewsPerAddress?: RateLimit; // page GETs with the token from one client address (in this process)
}

export const GATEWAY_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  opsHost: '127.0.0.1',
  /** An embedded gateway's ops listener: any free port (Gateway.opsUrl says which). */
  opsPort: 0,
  /** `npm start`'s ops listener (OPS_PORT): a fixed port for Prometheus and the load balancer's readiness probe. */
  startOpsPort: 9090,
  merchantHost: '127.0.0.1',
  /** An embedded gateway's merchant API listener: any free port (Gateway.merchantUrl says which). */
  merchantPort: 0,
  /** `npm start`'s merchant API listener (MERCHANT_PORT): a fixed port merchants' systems are configured with. */
  startMerchantPort: 8081,
  sessionTtlMs: 120_000,
  pinLockAt: 3,
  pinPaceMs: 250,
  pinBudget: DEFAULT_PIN_BUDGET as PinBudget,
  framesPerSecond: 20,
  burst: 40,
  idleTimeoutS: 60,
  maxBackpressureBytes: 64 * 1024,
  /** A scanner connection is closed with 4001 and re-authenticated after at most this long (s). */
  maxConnectionAgeS: 3_600,
  /** How often the revoked devices are read again, in case the feed lost a revocation without noticing the cut (ms). */
  revocationRefreshMs: 30_000,
  keyRingPollMs: 2_000,
  /** The receipt loop's round (gateway/ledger/receipt-loop.ts): seal merchants' journals, sign their new receipts. */
  receiptIntervalMs: 1_000,
  /** A pool batch closes at this many requests, or this long after its first (0: the end of the I/O turn). */
  batch: { maxItems: 64, windowMs: 0 },
  pageLimits: {
    perAddress: { perSecond: 5, burst: 20 }, perSession: { perSecond: 0.2, burst: 3 },
    refusedPerAddress: { perSecond: 5, burst: 20 }, viewsPerAddress: { perSecond: 5, burst: 20 },
  } as Required<PageLimits>,
  /** Upgrades one caller address may fail in this process (bad, expired, replayed or revoked token) before 429 from memory. */
  failedUpgrades: { perSecond: 10, burst: 50 } as RateLimit,
  /** How long a manual-capture hold lasts before it is released by itself, for a merchant without its own window (7 days). */
  holdWindowMs: DEFAULT_HOLD_WINDOW_MS,
  /** Where holders enter the PIN for a merchant whose record sets none (SCANPAY_PIN_ENTRY): on the scanner, as always. */
  pinEntry: 'scanner' as PinEntry,
  /** How often the gateway releases the holds whose window has passed (0: never, in this process). */
  holdSweepMs: 60_000,
  /** Merchant API requests one caller address may fail to authenticate in this process before 429 from memory. */
  merchantAuthFailures: { perSecond: 10, burst: 50 } as RateLimit,
  /** How often each gateway seals merchants' new events into their journals (ms): events are listed and delivered after. */
  sealerIntervalMs: 1_000,
  /** Webhook delivery: round interval, retry schedule, request deadline, concurrency, answer budget, private receivers refused. */
  webhooks: DEFAULT_WEBHOOK_SETTINGS,
} as const;
