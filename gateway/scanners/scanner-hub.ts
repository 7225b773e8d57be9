/**
 * Scanner connections, independent of the WebSocket library: authenticates upgrades (the caller's failure
 * budget in memory, a token's MAC, its one-time nonce in the store, so a token opens one connection across
 * restarts and gateways and a revoked device none, then the device's rate), keeps the connections of each
 * scanner (so a page-entered PIN's result reaches it), rate-limits in the store, validates every frame against
 * the protocol schema and hands it to the flow. Every bad frame gets an error frame on its own connection and
 * nothing else changes. A connection lives at most its maximum age (then CLOSE_REAUTHENTICATE: the scanner
 * connects again with a fresh token, which a revoked device cannot get accepted); one of a revoked device is
 * refused and closed (CLOSE_DEVICE_REVOKED) as soon as this gateway knows of the revocation (RevokedDevices).
 */
import { isScanpayError } from '../../core/errors.ts';
import type { DeviceRecord, DeviceTokenCheck, RateLimit } from '../../issuer/store/index.ts';
import {
  CLOSE_DEVICE_REVOKED, CLOSE_REAUTHENTICATE, HARD_FRAME_BYTES, MAX_FRAME_BYTES, parseScannerFrame, requestIdInText,
  type ErrorFrame, type GatewayFrame, type ScannerCode, type ScannerFrame,
} from '../../protocol/messages.ts';
import { TOKEN_WINDOW_S, verifyScannerToken } from '../../protocol/scanner-token.ts';
import { DEVICE_REVOKED_MESSAGE, RATE_LIMITED_MESSAGE, type FlowDeps } from '../flow/deps.ts';
import { handlePin } from '../flow/pin.ts';
import { handleReverse } from '../flow/reverse.ts';
import { handleScan } from '../flow/scan.ts';
import { handleStatus, recentPageResults } from '../flow/status.ts';
import { AddressLimiter, callerKey } from '../address-limiter.ts';
import type { InFlight } from '../in-flight.ts';
import type { ScannerConnection, ScannerDirectory } from './directory.ts';
import { PoolBusyError } from '../pool/batcher.ts';
import { ConnectionAges } from './connection-age.ts';
import { GATEWAY_DEFAULTS } from '../defaults.ts';
import { DeviceRateLimiter, type FrameUnit } from './rate-limit.ts';

type ReadFrame = { ok: true; frame: ScannerFrame; id: string } | { ok: false; id: string | null; code: ScannerCode; message: string };

/** A message as a frame, or why it is not one (with its request id when one can be read, so the scanner knows which to resend). */
function readFrame(data: ArrayBuffer, isBinary: boolean): ReadFrame {
  if (isBinary) return { ok: false, id: null, code: 'BAD_FRAME', message: 'frames are JSON text' };
  if (data.byteLength > MAX_FRAME_BYTES) {
    // larger than HARD_FRAME_BYTES never reaches here (the transport closes); up to that, the id is looked for in the text
    const id = data.byteLength > HARD_FRAME_BYTES ? null : requestIdInText(Buffer.from(data).toString('utf8'));
    return { ok: false, id, code: 'FRAME_TOO_LARGE', message: `frames are at most ${MAX_FRAME_BYTES} bytes` };
  }
  // a text message is UTF-8 here: uWS fails a connection whose text frame is not (RFC 6455 §8.1, docs/protocol.md §6)
  const parsed = parseScannerFrame(UTF8.decode(data));
  return parsed.ok ? { ok: true, frame: parsed.frame, id: parsed.frame.id } : { ok: false, id: parsed.id, code: parsed.code, message: parsed.message };
}

const UTF8 = new TextDecoder('utf-8');

/** Requests one connection may have outstanding (answered or refused before the next is taken); past it, BUSY. */
export const MAX_OUTSTANDING_PER_CONNECTION = 32;

/** A nonce is remembered for as long as its token could still be accepted (± the window, plus a margin). */
const NONCE_TTL_MS = (2 * TOKEN_WINDOW_S + 60) * 1000;

/**
 * Failures that say nothing about the request, only that the gateway cannot take it now (store unreachable
 * or past its deadline, crypto queue full): the scanner is told BUSY, retryable (docs/protocol.md).
 * Anything else is INTERNAL.
 */
function isTransient(e: unknown): boolean {
  return e instanceof PoolBusyError || isScanpayError(e, 'STORE_UNAVAILABLE');
}


/** An accepted upgrade names its device and the merchant the device is bound to (null: unbound), read once here. */
export type UpgradeVerdict = { ok: true; deviceId: string; merchant: string | null } | { ok: false; status: 401 | 429 };


export interface ScannerHubOptions {
  fleetKey: Uint8Array;
  framesPerSecond: number;
  burst: number;
  /** Failed upgrades per caller address, in this process (default GATEWAY_DEFAULTS.failedUpgrades). */
  failedUpgrades?: RateLimit;
  onRejectedFrame?: (code: ScannerCode) => void;
  onConnections?: (count: number) => void;
  /** A scanner's first connection here opened (true) or its last closed (false): where its pushes must reach. */
  onScannerPresence?: (deviceId: string, present: boolean) => void;
  /** The devices revoked (RevokedDevices): refused on every frame, and closed at once if one connects. */
  revoked: { has(deviceId: string): boolean };
  /** A connection is closed with CLOSE_REAUTHENTICATE after at most this long (ConnectionAges says how). */
  maxConnectionAgeMs: number;
}

export class ScannerHub {
  /** Per connection, the ids of its requests taken and not yet answered (ids must be unique among these). */
  readonly #outstanding = new Map<ScannerConnection, Set<string>>();
  readonly #rate: DeviceRateLimiter;
  readonly #failedUpgrades: AddressLimiter;
  readonly #ages: ConnectionAges<ScannerConnection>;
  #connections = 0;
  draining = false;

  constructor(
    private readonly flow: FlowDeps,
    private readonly directory: ScannerDirectory,
    private readonly inFlight: InFlight,
    private readonly opts: ScannerHubOptions,
  ) {
    this.#rate = new DeviceRateLimiter(flow.store, opts.framesPerSecond, opts.burst);
    this.#failedUpgrades = new AddressLimiter(opts.failedUpgrades ?? GATEWAY_DEFAULTS.failedUpgrades);
    this.#ages = new ConnectionAges(
      opts.maxConnectionAgeMs,
      (conn) => conn.close(CLOSE_REAUTHENTICATE.code, CLOSE_REAUTHENTICATE.reason),
      (conn) => (this.#outstanding.get(conn)?.size ?? 0) > 0,
    );
  }

  /** Stops ending connections at their age (the gateway is closing them all). */
  stop(): void {
    this.#ages.stop();
  }

  get connections(): number {
    return this.#connections;
  }

  /**
   * Whether an upgrade from `remoteAddress` with this token opens a connection: 401 (missing, bad, expired,
   * replayed or revoked) or 429. A failure costs its caller, never the device a token names: every attempt
   * first reserves a unit of its address's failure budget in memory (spent: 429 with no store access) and gets
   * it back once its token is accepted. Then the MAC, then the nonce and revocation (the store); only an
   * accepted token takes a unit of the device's rate, so a reconnect flood still spends the device's budget
   * (and a 429 for it comes after the token was spent).
   */
  async authenticate(token: string | null, remoteAddress: string): Promise<UpgradeVerdict> {
    const caller = callerKey(remoteAddress);
    if (!this.#failedUpgrades.take(caller)) return { ok: false, status: 429 };
    const check = token ? verifyScannerToken(token, this.opts.fleetKey) : null;
    if (!check?.ok) return { ok: false, status: 401 };
    let verdict: DeviceTokenCheck;
    let device: DeviceRecord | null;
    try {
      // the device's binding is read beside the token's acceptance (sent together: no round trip of its own) and
      // kept for the connection's life, so no scan reads it again (a binding never moves: Store.bindDevice)
      [verdict, device] = await Promise.all([
        this.flow.store.acceptDeviceToken(check.deviceId, check.nonce, NONCE_TTL_MS),
        this.flow.store.getDevice(check.deviceId),
      ]);
    } catch (e) {
      this.#failedUpgrades.refund(caller); // the store failed, not the caller
      throw e;
    }
    if (verdict !== 'accepted') return { ok: false, status: 401 };
    this.#failedUpgrades.refund(caller);
    if (!(await this.#rate.take(check.deviceId))) return { ok: false, status: 429 };
    return { ok: true, deviceId: check.deviceId, merchant: device?.merchant ?? null };
  }

  opened(conn: ScannerConnection): void {
    // before the welcome: pushes for it may follow at once
    if (this.directory.add(conn)) this.opts.onScannerPresence?.(conn.deviceId, true);
    this.#outstanding.set(conn, new Set());
    this.opts.onConnections?.(++this.#connections);
    // accepted by the store before this gateway heard of the revocation (the sweep that closed the others ran first)
    if (this.opts.revoked.has(conn.deviceId)) return conn.close(CLOSE_DEVICE_REVOKED.code, CLOSE_DEVICE_REVOKED.reason);
    this.#ages.add(conn);
    conn.send({ v: 1, type: 'welcome', scanner: conn.deviceId, limits: { maxFrameBytes: MAX_FRAME_BYTES, framesPerSecond: this.opts.framesPerSecond, burst: this.opts.burst } });
    void this.#repush(conn);
  }

  /** After the welcome: the results of this scanner's sessions decided on the page lately, in case it missed the push. */
  async #repush(conn: ScannerConnection): Promise<void> {
    try {
      for (const frame of await recentPageResults(this.flow, conn.deviceId)) conn.send(frame);
    } catch (e) {
      // a store hiccup costs only the re-push: the scanner can still ask with `status`
      this.flow.audit.warn({ event: 'repush.failed', scanner: conn.deviceId, error: (e as Error).message }, 'could not re-push recent results');
    }
  }

  closed(conn: ScannerConnection): void {
    this.#ages.remove(conn);
    this.#outstanding.delete(conn);
    if (this.directory.remove(conn)) this.opts.onScannerPresence?.(conn.deviceId, false); // its rate budget stays in the store
    this.opts.onConnections?.(--this.#connections);
  }

  #reject(conn: ScannerConnection, id: string | null, code: ScannerCode, message: string): void {
    this.opts.onRejectedFrame?.(code);
    const frame: ErrorFrame = { v: 1, type: 'error', id, code, message };
    conn.send(frame);
  }

  /** Why a well-formed frame is refused on this connection now, or null (a ping only for an id in use). */
  #refusal(conn: ScannerConnection, frame: ScannerFrame): [ScannerCode, string] | null {
    const outstanding = this.#outstanding.get(conn);
    if (outstanding?.has(frame.id)) return ['BAD_FRAME', '/id: in use by an outstanding request on this connection; use a fresh id'];
    if (frame.type === 'ping') return null;
    if (this.draining) return ['SHUTTING_DOWN', 'the gateway is shutting down; retry on another'];
    if (outstanding && outstanding.size >= MAX_OUTSTANDING_PER_CONNECTION) {
      return ['BUSY', `at most ${MAX_OUTSTANDING_PER_CONNECTION} requests outstanding per connection; wait for an answer`];
    }
    return null;
  }

  /**
   * One inbound message. It is read (decoded, parsed and checked against the schema) within this call, so `data`
   * need only be valid during it: the transport hands over the WebSocket library's own buffer, uncopied. Resolves
   * when its answer has been sent. In flight from the moment it is read, so a shutdown answers every frame read
   * before it began before the connection closes.
   */
  frame(conn: ScannerConnection, data: ArrayBuffer, isBinary: boolean): Promise<void> {
    return this.inFlight.track(this.#frame(conn, readFrame(data, isBinary)));
  }

  async #frame(conn: ScannerConnection, read: ReadFrame): Promise<void> {
    if (this.opts.revoked.has(conn.deviceId)) {
      this.#reject(conn, read.id, 'DEVICE_REVOKED', DEVICE_REVOKED_MESSAGE);
      return conn.close(CLOSE_DEVICE_REVOKED.code, CLOSE_DEVICE_REVOKED.reason);
    }
    const unit = this.#rate.unit(conn.deviceId);
    let refusal = read.ok ? this.#refusal(conn, read.frame) : null;
    // while draining: answered at once, from memory (no rate unit), so the answer leaves before the connection closes
    if (read.ok && refusal?.[0] === 'SHUTTING_DOWN') return this.#reject(conn, read.frame.id, refusal[0], refusal[1]);
    // A scan or PIN that will reach its store step takes the frame's rate unit there (one round trip); every
    // other frame takes it here, before it is answered.
    if (!read.ok || refusal || !(read.frame.type === 'scan' || read.frame.type === 'pin')) {
      let allowed: boolean;
      try {
        allowed = await unit.alone();
      } catch {
        return this.#reject(conn, read.id, 'BUSY', 'the gateway cannot take frames right now; retry shortly');
      }
      if (!allowed) return this.#reject(conn, read.id, 'RATE_LIMITED', RATE_LIMITED_MESSAGE);
      if (!read.ok) return this.#reject(conn, read.id, read.code, read.message);
      refusal = this.#refusal(conn, read.frame); // again: the unit's round trip let other frames in
    }
    const frame = read.frame;
    if (refusal) return this.#reject(conn, frame.id, refusal[0], refusal[1]);
    if (frame.type === 'ping') {
      conn.send({ v: 1, type: 'pong', id: frame.id });
      return;
    }
    const outstanding = this.#outstanding.get(conn);
    outstanding?.add(frame.id);
    try {
      const answer = await this.#answer(conn, frame, unit);
      // the device's budget, refused with the frame's unit (not a card's PIN pace, which is RATE_LIMITED too)
      if (unit.refused) this.opts.onRejectedFrame?.('RATE_LIMITED');
      else if (answer.type === 'error' && answer.code === 'MERCHANT_MISMATCH') this.opts.onRejectedFrame?.(answer.code); // refused before any card work
      conn.send(answer);
    } catch (e) {
      this.flow.audit.warn({ event: 'frame.failed', scanner: conn.deviceId, type: frame.type, error: (e as Error).message }, 'frame failed');
      if (isTransient(e)) this.#reject(conn, frame.id, 'BUSY', 'the gateway cannot complete this request right now; retry shortly');
      else this.#reject(conn, frame.id, 'INTERNAL', 'the gateway could not complete this request; retry');
    } finally {
      outstanding?.delete(frame.id);
    }
  }

  /** The flow step a request frame goes to (a ping is answered before). */
  #answer(conn: ScannerConnection, frame: Exclude<ScannerFrame, { type: 'ping' }>, unit: FrameUnit): Promise<GatewayFrame> {
    switch (frame.type) {
      case 'scan': return handleScan(this.flow, conn, frame, unit);
      case 'pin': return handlePin(this.flow, conn.deviceId, frame.session, frame.pin, frame.id, unit, 'scanner');
      case 'status': return handleStatus(this.flow, conn.deviceId, frame.session, frame.id);
      case 'reverse': return handleReverse(this.flow, conn.deviceId, frame.session, frame.id);
    }
  }
}
