/**
 * The scanners connected to this process, by device id: where a push for a scanner is delivered (a page
 * result, from this process or, through the push bus, from another gateway), and which sockets end when a
 * scanner is revoked. It exists before the hub so
 * the push bus can deliver into it, and the hub adds and removes the connections it accepts.
 */
import type { GatewayFrame } from '../../protocol/messages.ts';

/** One accepted scanner socket, as the hub and the directory hold it (the transport implements it). */
export interface ScannerConnection {
  readonly deviceId: string;
  /** The merchant the device was bound to when the connection was accepted (null: unbound); kept for its life. */
  readonly merchant: string | null;
  /** False when the frame could not be queued (backpressure limit or closed). */
  send(frame: GatewayFrame): boolean;
  /** Ends the connection with a close frame (docs/protocol.md §6); the transport then reports it closed. Idempotent. */
  close(code: number, reason: string): void;
}

export class ScannerDirectory {
  readonly #byScanner = new Map<string, Set<ScannerConnection>>();

  /** Adds a connection; true when it is its scanner's first here (the push bus should start watching it). */
  add(conn: ScannerConnection): boolean {
    const set = this.#byScanner.get(conn.deviceId);
    if (set) {
      set.add(conn);
      return false;
    }
    this.#byScanner.set(conn.deviceId, new Set([conn]));
    return true;
  }

  /** Removes a connection; true when it was its scanner's last here. */
  remove(conn: ScannerConnection): boolean {
    const set = this.#byScanner.get(conn.deviceId);
    if (!set?.delete(conn) || set.size > 0) return false;
    this.#byScanner.delete(conn.deviceId);
    return true;
  }

  /** Ends every connection of a scanner here with a close code (each is then removed as the transport reports it closed); how many. */
  close(deviceId: string, code: number, reason: string): number {
    const conns = [...(this.#byScanner.get(deviceId) ?? [])];
    for (const conn of conns) conn.close(code, reason);
    return conns.length;
  }

  /** Sends a frame to every connection of a scanner here (none: nothing happens). */
  notify(deviceId: string, frame: GatewayFrame): void {
    for (const conn of this.#byScanner.get(deviceId) ?? []) conn.send(frame);
  }
}
