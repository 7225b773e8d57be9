/**
 * Scanner connections, independent of the WebSocket library: authenticates upgrades, keeps the
 * connections of each scanner (so a page-entered PIN's result reaches it), rate-limits, validates
 * every frame against the protocol schema and hands it to the flow. Every bad frame gets an error
 * frame on its own connection and nothing else changes.
 */
import { MAX_FRAME_BYTES, parseScannerFrame, type ErrorFrame, type GatewayFrame, type ScannerCode } from '../../protocol/messages.ts';
import { ReplayGuard, verifyScannerToken } from '../../protocol/scanner-token.ts';
import type { FlowDeps } from '../flow/deps.ts';
import { handlePin } from '../flow/pin.ts';
import { handleScan } from '../flow/scan.ts';
import type { InFlight } from '../in-flight.ts';
import { RateLimiter } from './rate-limit.ts';

export interface ScannerConnection {
  readonly scannerId: string;
  /** False when the frame could not be queued (backpressure limit or closed). */
  send(frame: GatewayFrame): boolean;
}

export interface ScannerHubOptions {
  fleetKey: Uint8Array;
  framesPerSecond: number;
  burst: number;
  onRejectedFrame?: (code: ScannerCode) => void;
  onConnections?: (count: number) => void;
}

export class ScannerHub {
  readonly #byScanner = new Map<string, Set<ScannerConnection>>();
  readonly #replay = new ReplayGuard();
  readonly #rate: RateLimiter;
  #connections = 0;
  draining = false;

  constructor(private readonly flow: FlowDeps, private readonly inFlight: InFlight, private readonly opts: ScannerHubOptions) {
    this.#rate = new RateLimiter(opts.framesPerSecond, opts.burst);
  }

  get connections(): number {
    return this.#connections;
  }

  /** The scanner id for an upgrade's token, or null (the transport answers 401). */
  authenticate(token: string | null): string | null {
    if (!token) return null;
    const check = verifyScannerToken(token, this.opts.fleetKey);
    if (!check.ok || !this.#replay.accept(check.nonce, check.issuedAt)) return null;
    return check.deviceId;
  }

  opened(conn: ScannerConnection): void {
    let set = this.#byScanner.get(conn.scannerId);
    if (!set) this.#byScanner.set(conn.scannerId, (set = new Set()));
    set.add(conn);
    this.opts.onConnections?.(++this.#connections);
    conn.send({ v: 1, type: 'welcome', scanner: conn.scannerId, limits: { maxFrameBytes: MAX_FRAME_BYTES, framesPerSecond: this.opts.framesPerSecond, burst: this.opts.burst } });
  }

  closed(conn: ScannerConnection): void {
    const set = this.#byScanner.get(conn.scannerId);
    set?.delete(conn);
    if (set?.size === 0) {
      this.#byScanner.delete(conn.scannerId);
      this.#rate.forget(conn.scannerId);
    }
    this.opts.onConnections?.(--this.#connections);
  }

  notify(scannerId: string, frame: GatewayFrame): void {
    for (const conn of this.#byScanner.get(scannerId) ?? []) conn.send(frame);
  }

  #reject(conn: ScannerConnection, id: string | null, code: ScannerCode, message: string): void {
    this.opts.onRejectedFrame?.(code);
    const frame: ErrorFrame = { v: 1, type: 'error', id, code, message };
    conn.send(frame);
  }

  /** One inbound message. Resolves when its answer has been sent. */
  async frame(conn: ScannerConnection, data: ArrayBuffer, isBinary: boolean): Promise<void> {
    if (!this.#rate.take(conn.scannerId)) return this.#reject(conn, null, 'RATE_LIMITED', 'too many frames; slow down');
    if (isBinary) return this.#reject(conn, null, 'BAD_FRAME', 'frames are JSON text');
    if (data.byteLength > MAX_FRAME_BYTES) return this.#reject(conn, null, 'FRAME_TOO_LARGE', `frames are at most ${MAX_FRAME_BYTES} bytes`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(data);
    } catch {
      return this.#reject(conn, null, 'BAD_FRAME', 'frame is not UTF-8');
    }
    const parsed = parseScannerFrame(text);
    if (!parsed.ok) return this.#reject(conn, parsed.id, parsed.code, parsed.message);
    const frame = parsed.frame;
    if (frame.type === 'ping') {
      conn.send({ v: 1, type: 'pong', id: frame.id });
      return;
    }
    if (this.draining) return this.#reject(conn, frame.id, 'SHUTTING_DOWN', 'the gateway is shutting down; retry on another');
    try {
      const answer = await this.inFlight.track<GatewayFrame>(frame.type === 'scan'
        ? handleScan(this.flow, conn.scannerId, frame)
        : handlePin(this.flow, conn.scannerId, frame.session, frame.pin, frame.id));
      conn.send(answer);
    } catch (e) {
      this.flow.audit.warn({ event: 'frame.failed', scanner: conn.scannerId, type: frame.type, error: (e as Error).message }, 'frame failed');
      this.#reject(conn, frame.id, 'INTERNAL', 'the gateway could not complete this request; retry');
    }
  }
}
