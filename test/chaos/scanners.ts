/**
 * Paying scanners for the chaos run: each a RawScanner (test/support) that scans a card (half of them asking for
 * a manual capture, which the money operator, money.ts, then captures or voids), sends its PIN, and
 * keeps going through faults the way a real scanner must: an error answer or a lost one is retried (a scan
 * with a fresh scan, a PIN by resending it for the same session, which returns the stored result), a closed
 * socket is reopened with a fresh device token. Every answer is written to a journal, reconciled with the
 * ledger afterwards (reconcile.ts).
 * @example
 *   const fleet = new ScannerFleet({ scannerUrl: () => gw.scannerUrl, token, cards, scanners: 6 });
 *   await fleet.start(); ...; await fleet.stop();
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PaymentResultFrame, Receipt } from '../../protocol/messages.ts';
import { PIN, RawScanner } from '../support/gateway-fixture.ts';

export interface ChaosCard {
  token: string; // card token (the store's key)
  payloadText: string;
}

/** What one session's scanner was finally told. */
export type SessionFate =
  | 'approved' // a payment-result approved (its receipt kept)
  | 'declined' // a payment-result declined
  | 'refused' // a definitive error for the session (SESSION_*): told it failed
  | 'unknown'; // only retryable errors or no answer until the scanner gave up: it does not know

export interface SessionEntry {
  session: string;
  card: string;
  amount: number;
  /** How the scan asked it captured: scanners of odd index ask for a manual capture (the merchant captures or voids it). */
  capture: 'automatic' | 'manual';
  fate: SessionFate;
  lastCode: string | null;
  receipts: Receipt[]; // every receipt received for it (a resent PIN gets the stored one again)
  firstAnswerReplayed: boolean; // the answer to the session's first PIN frame said replayed: true
  openedAt: number; // when its auth-required arrived (ms since epoch)
  settledAt: number | null; // when its payment-result arrived
}

export interface FleetOptions {
  scannerUrl: () => string;
  token: (deviceId: string) => string;
  cards: ChaosCard[];
  scanners: number;
  /**
   * How long a scanner keeps resending a PIN for one session before it gives up and scans again (the outcome
   * is then unknown to it). Default 5 s: a session whose attempt was claimed but never finished (its gateway
   * died, or the claim's reply was lost) answers BUSY to every resend, so waiting longer gains nothing.
   */
  pinPatienceMs?: number;
  /** Binds a device to the chaos merchant before it connects (a registered merchant's payments come from its own scanners). */
  bind: (deviceId: string) => Promise<unknown>;
}

const ANSWER_TIMEOUT_MS = 5_000;
/** The merchant every chaos payment is for (the money operator holds its API key). */
export const CHAOS_MERCHANT = 'chaos-shop';
const DEFINITIVE = new Set(['SESSION_UNKNOWN', 'SESSION_EXPIRED', 'SESSION_USED', 'SESSION_WRONG_SCANNER', 'BAD_FRAME', 'PIN_WRONG']);

export class ScannerFleet {
  readonly sessions = new Map<string, SessionEntry>();
  /** Error codes (and 'timeout', 'closed', 'connect-refused') by step. */
  readonly errors = { scan: new Map<string, number>(), pin: new Map<string, number>(), connect: new Map<string, number>() };
  /** When each approved payment-result arrived (ms since epoch). */
  readonly approvalsAt: number[] = [];
  /** Latency of every error answer (ms): a gateway that fails fast answers errors at once. */
  readonly errorLatencies: number[] = [];
  connects = 0;
  #stopping = false;
  #loops: Promise<void>[] = [];

  constructor(private readonly opts: FleetOptions) {}

  /** Binds the fleet's devices to the chaos merchant, then starts each paying. */
  async start(): Promise<void> {
    const devices = Array.from({ length: this.opts.scanners }, (_, i) => `chaos-${i}-${randomUUID().slice(0, 6)}`);
    await Promise.all(devices.map((id) => this.opts.bind(id)));
    devices.forEach((id, i) => this.#loops.push(this.#payLoop(id, i)));
  }

  /** No new scans; sessions in progress are settled (or given up) first. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#loops);
  }

  #count(step: keyof ScannerFleet['errors'], code: string): void {
    this.errors[step].set(code, (this.errors[step].get(code) ?? 0) + 1);
  }

  async #connect(deviceId: string, patienceMs: number): Promise<RawScanner | null> {
    const deadline = Date.now() + patienceMs;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      try {
        const scanner = await RawScanner.connect(this.opts.scannerUrl(), deviceId, this.opts.token(deviceId));
        this.connects++;
        return scanner;
      } catch (e) {
        this.#count('connect', /HTTP (\d+)/.exec((e as Error).message)?.[1] ?? 'refused');
        await sleep(Math.min(50 * 2 ** attempt, 500) * (0.5 + Math.random()));
      }
    }
    return null;
  }

  async #payLoop(deviceId: string, index: number): Promise<void> {
    let scanner: RawScanner | null = null;
    let next = index;
    try {
      while (!this.#stopping) {
        if (!scanner?.isOpen) {
          await scanner?.close();
          scanner = await this.#connect(deviceId, 1_000);
          if (!scanner) continue;
        }
        const card = this.opts.cards[next++ % this.opts.cards.length];
        const amount = 1 + Math.floor(Math.random() * 500);
        const capture = index % 2 === 1 ? 'manual' : 'automatic';
        const started = Date.now();
        let answer;
        try {
          const id = scanner.newId();
          scanner.send({ v: 1, type: 'scan', id, payload: card.payloadText, amount, currency: 'EUR', merchant: CHAOS_MERCHANT, capture });
          answer = await scanner.answer(id, ANSWER_TIMEOUT_MS);
        } catch {
          this.#count('scan', scanner.isOpen ? 'timeout' : 'closed');
          continue;
        }
        if (answer.type === 'error') {
          this.errorLatencies.push(Date.now() - started);
          this.#count('scan', answer.code);
          await sleep(20 + Math.random() * 80);
          continue;
        }
        if (answer.type !== 'auth-required') throw new Error(`unexpected answer to a scan: ${JSON.stringify(answer)}`);
        const entry: SessionEntry = { session: answer.session, card: card.token, amount, capture, fate: 'unknown', lastCode: null, receipts: [], firstAnswerReplayed: false, openedAt: Date.now(), settledAt: null };
        this.sessions.set(entry.session, entry);
        scanner = await this.#settlePin(deviceId, scanner, entry);
      }
    } finally {
      await scanner?.close();
    }
  }

  /** Sends the PIN, and resends it after an error or a lost answer, until the session's outcome is known or patience runs out. */
  async #settlePin(deviceId: string, first: RawScanner, entry: SessionEntry): Promise<RawScanner | null> {
    let scanner: RawScanner | null = first;
    const deadline = Date.now() + (this.opts.pinPatienceMs ?? 5_000);
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      if (!scanner?.isOpen) {
        await scanner?.close();
        scanner = await this.#connect(deviceId, deadline - Date.now());
        if (!scanner) break;
      }
      const started = Date.now();
      let answer;
      try {
        answer = await scanner.answer(scanner.sendPin(entry.session, PIN), ANSWER_TIMEOUT_MS);
      } catch {
        this.#count('pin', scanner.isOpen ? 'timeout' : 'closed');
        continue;
      }
      if (answer.type === 'payment-result') {
        this.#settled(entry, answer, attempt === 0);
        return scanner;
      }
      if (answer.type !== 'error') throw new Error(`unexpected answer to a PIN: ${JSON.stringify(answer)}`);
      this.errorLatencies.push(Date.now() - started);
      this.#count('pin', answer.code);
      entry.lastCode = answer.code;
      if (DEFINITIVE.has(answer.code)) {
        entry.fate = 'refused';
        return scanner;
      }
      await sleep(Math.min(50 * 2 ** attempt, 1_000) * (0.5 + Math.random()));
    }
    entry.fate = 'unknown';
    return scanner;
  }

  #settled(entry: SessionEntry, result: PaymentResultFrame, firstAnswer: boolean): void {
    entry.fate = result.outcome;
    entry.settledAt = Date.now();
    entry.lastCode = result.reason;
    if (firstAnswer && result.replayed) entry.firstAnswerReplayed = true;
    if (result.receipt) entry.receipts.push(result.receipt);
    if (result.outcome === 'approved') this.approvalsAt.push(Date.now());
  }
}
