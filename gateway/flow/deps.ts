/** What the payment flow (S22–S25) runs on. It knows nothing of sockets or HTTP. */
import type { CryptoCore } from '../../core/types.ts';
import type { PinBudget, RateTake, Store } from '../../issuer/store/index.ts';
import type { MerchantPolicies } from './merchant-policies.ts';
import type { GatewayFrame } from '../../protocol/messages.ts';
import type { CardEngine } from '../../issuer/card-engine.ts';

/** Structured audit events; never carry a PAN (only masked), key, PIN or payload. */
export interface AuditLog {
  debug(event: Record<string, unknown>, message: string): void;
  info(event: Record<string, unknown>, message: string): void;
  warn(event: Record<string, unknown>, message: string): void;
}

/** The counters and histograms the flow feeds (gateway/metrics.ts implements them with prom-client). */
export interface FlowMetrics {
  /** Illegal scans carry the folded scanner code only (a precise reason would enumerate issuer key ids). */
  scan(outcome: 'legal' | 'illegal', code?: string): void;
  /** Evaluated: correct, wrong, invalid (DVD-1 failed otherwise). Not evaluated: refused (card takes no PIN now), rejected (bad frame or session). */
  pinAttempt(result: 'correct' | 'wrong' | 'invalid' | 'refused' | 'rejected'): void;
  payment(outcome: 'approved' | 'declined', reason: string | null): void;
  stepSeconds(step: 'scan' | 'pin', seconds: number): void;
  /** A PIN refused because a scanner's, or its merchant's, wrong-PIN budget is spent (PinBudget). */
  pinBudgetSpent(scope: 'device' | 'merchant'): void;
}

/**
 * A scanner frame's one unit of its device's rate budget (gateway/scanners/rate-limit.ts). A step that reaches
 * the store takes it inside that store step (one round trip, atomic with it); a frame answered before the
 * store takes it on its own first. Taken once, whichever comes first.
 */
export interface FrameRateUnit {
  /** The unit for the store step, unless it was taken already (then none: the step takes none). */
  forStep(): RateTake[];
  /** The unit on its own (once; again: the same answer); false when the budget is spent. */
  alone(): Promise<boolean>;
  /** The store step it went to refused it (RATE_LIMITED): the flow says so here, so whoever counts refusals knows. */
  refusedInStep(): void;
}

/**
 * Who sent a scan: the device its token named, and the merchant the device is bound to (`scanner provision
 * --merchant`), read once when the connection was accepted (ScannerHub.authenticate), never per frame; null: unbound.
 */
export interface ScannerIdentity {
  readonly deviceId: string;
  readonly merchant: string | null;
}

/** What a scanner is told when its device's budget is spent (by the hub or by a store step). */
export const RATE_LIMITED_MESSAGE = 'too many frames; slow down';

/** What a scanner is told when a scan names a merchant it may not take payments for (MERCHANT_MISMATCH). */
export const MERCHANT_MISMATCH_MESSAGE = 'this scanner takes payments for its own merchant only';

/** What a revoked device is told for any request (DEVICE_REVOKED), by the hub or by the flow. */
export const DEVICE_REVOKED_MESSAGE = 'this device is revoked: it takes no scans or PINs';

export interface FlowConfig {
  publicUrl: string; // base of the auth page URLs, e.g. http://127.0.0.1:8080
  sessionTtlMs: number;
  pinLockAt: number; // wrong PINs that lock a card (3)
  pinPaceMs: number; // least time between two evaluated PIN attempts on one card
  pinBudget?: PinBudget; // wrong PINs per scanner and per merchant within a window; none: unlimited
}

export interface FlowDeps {
  /** Each merchant's capture policy (merchant-policies.ts), read at a scan. */
  merchantPolicies: MerchantPolicies;
  core: CryptoCore; // this thread's core: small keyless-for-issuer operations (page token and receipt MACs)
  engine: CardEngine; // where the issuer keys live and the batched DVD-1 work runs
  store: Store;
  pageKey: Uint8Array; // HMAC key of auth page tokens
  config: FlowConfig;
  audit: AuditLog;
  metrics: FlowMetrics;
  /** The devices revoked as this gateway knows them (RevokedDevices): their scans and PINs are refused. */
  revokedDevices: { has(deviceId: string): boolean };
  /** PIN attempts running in this process, by session id: a duplicate waits for the first one's answer. */
  pinsInFlight: Map<string, { deviceId: string; outcome: Promise<GatewayFrame> }>;
  /** Pushes a frame to every connection of a scanner (a page-entered PIN's result). */
  notify(deviceId: string, frame: GatewayFrame): void;
}
