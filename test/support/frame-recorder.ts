/**
 * A man in the middle of one scanner connection, for tests that must see every frame that crosses it: a `ws` server
 * on a free port relays each connection to the gateway's scanner endpoint (the subprotocol and the device token's
 * Authorization header passed through) and records every text frame in both directions, in order, as it was on the
 * wire. Closing either side closes the other.
 * @example
 *   const recorder = await FrameRecorder.start(fx.gateway.scannerUrl);
 *   const client = await ScannerClient.connect({ url: recorder.url, deviceId, secret });
 *   … ; expect(recorder.frames.filter((f) => f.from === 'scanner').map((f) => JSON.parse(f.text).type)).not.toContain('pin');
 */
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

export interface RecordedFrame { from: 'scanner' | 'gateway'; text: string; binary: boolean }

export class FrameRecorder {
  readonly frames: RecordedFrame[] = [];
  readonly #server: WebSocketServer;
  readonly #sockets = new Set<WebSocket>();

  private constructor(server: WebSocketServer, target: string) {
    this.#server = server;
    server.on('connection', (scanner, req) => {
      const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
      const authorization = req.headers.authorization;
      const upstream = new WebSocket(target, protocols, { headers: authorization ? { authorization } : {}, perMessageDeflate: false });
      this.#sockets.add(scanner).add(upstream);
      const early: { data: WebSocket.RawData; binary: boolean }[] = [];
      scanner.on('message', (data, binary) => {
        this.frames.push({ from: 'scanner', text: data.toString(), binary });
        if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary });
        else early.push({ data, binary });
      });
      upstream.on('open', () => {
        for (const m of early.splice(0)) upstream.send(m.data, { binary: m.binary });
      });
      upstream.on('message', (data, binary) => {
        this.frames.push({ from: 'gateway', text: data.toString(), binary });
        if (scanner.readyState === WebSocket.OPEN) scanner.send(data, { binary });
      });
      const closeBoth = (code?: number, reason?: Buffer) => {
        const usable = code !== undefined && code >= 1000 && code !== 1005 && code !== 1006 && code !== 1015;
        for (const ws of [scanner, upstream]) {
          if (ws.readyState === WebSocket.OPEN) ws.close(usable ? code : 1011, usable ? reason : undefined);
          else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        }
      };
      upstream.on('unexpected-response', (_req, res) => {
        res.resume();
        closeBoth(1011);
      });
      upstream.on('close', (code, reason) => closeBoth(code, reason));
      scanner.on('close', (code, reason) => closeBoth(code, reason));
      upstream.on('error', () => closeBoth(1011));
      scanner.on('error', () => closeBoth(1011));
    });
  }

  /** A recorder relaying to `target` (ws://…/scanner), listening on 127.0.0.1 on a free port. */
  static async start(target: string): Promise<FrameRecorder> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, handleProtocols: (protocols) => [...protocols][0] ?? false });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    return new FrameRecorder(server, target);
  }

  /** The scanner endpoint to connect to instead of the gateway's. */
  get url(): string {
    return `ws://127.0.0.1:${(this.#server.address() as AddressInfo).port}/scanner`;
  }

  async close(): Promise<void> {
    for (const ws of this.#sockets) ws.terminate();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * The frames of `frames` that bear `pin`: a `pin` field anywhere in the frame, or the digits standing alone in its
 * text (not inside a longer run of letters and digits, such as a hex MAC or a timestamp, where 4 digits occur by chance).
 */
export function pinBearing(frames: readonly RecordedFrame[], pin: string): RecordedFrame[] {
  const alone = new RegExp(`(?<![0-9A-Za-z])${pin}(?![0-9A-Za-z])`);
  const hasPinField = (value: unknown): boolean =>
    typeof value === 'object' && value !== null && (Object.hasOwn(value, 'pin') || Object.values(value).some(hasPinField));
  return frames.filter((f) => {
    if (alone.test(f.text)) return true;
    try {
      return hasPinField(JSON.parse(f.text));
    } catch {
      return false;
    }
  });
}
