/**
 * A webhook receiver for tests: an HTTP server on 127.0.0.1 (a free port) that records every request it
 * gets (event id, signature header, body) and answers as the test's `respond` says: an answer, `reset` (the
 * connection dropped), or `hang` (never answered; the socket stays open until the client gives up).
 * @example
 *   const r = await WebhookReceiver.start(() => ({ status: 200 }));
 *   … r.url …   r.received   await r.close();
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Received {
  eventId: string;
  signature: string;
  body: string;
}

export type Respond = (req: Received, n: number) => { status: number; body?: string; headers?: Record<string, string> } | 'reset' | 'hang' | ((res: ServerResponse) => void);

export class WebhookReceiver {
  readonly received: Received[] = [];
  /** Connections opened and closed (by either side). */
  connections = 0;
  closedConnections = 0;
  readonly #sockets = new Set<Socket>();

  private constructor(private readonly server: Server, public respond: Respond) {}

  static async start(respond: Respond): Promise<WebhookReceiver> {
    let receiver!: WebhookReceiver;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const got: Received = { eventId: String(req.headers['scanpay-event-id'] ?? ''), signature: String(req.headers['scanpay-signature'] ?? ''), body: Buffer.concat(chunks).toString('utf8') };
        receiver.received.push(got);
        const answer = receiver.respond(got, receiver.received.length);
        if (answer === 'hang') return;
        if (answer === 'reset') return void req.socket.destroy();
        if (typeof answer === 'function') return answer(res);
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers }).end(answer.body ?? '');
      });
    });
    receiver = new WebhookReceiver(server, respond);
    server.on('connection', (socket: Socket) => {
      receiver.connections++;
      receiver.#sockets.add(socket);
      socket.on('close', () => {
        receiver.closedConnections++;
        receiver.#sockets.delete(socket);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Resolves once `check()` is true, looking every 20 ms (up to `maxMs`, then rejects with `what`). */
export async function until(check: () => boolean | Promise<boolean>, what: string, maxMs = 60_000): Promise<void> {
  const end = Date.now() + maxMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
