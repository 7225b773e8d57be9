/**
 * The one module that imports uWebSockets.js. It turns uWS callbacks into calls on the ScannerHub and
 * the HTTP route handlers, and respects uWS's rules: an abort handler on every async response, corked
 * writes, backpressure checked before sending, frame and body size caps.
 */
import uws from '@trufflesuite/uws-js-unofficial';
import type { GatewayFrame } from '../../protocol/messages.ts';
import { MAX_FRAME_BYTES, SUBPROTOCOL } from '../../protocol/messages.ts';
import { MAX_BODY_BYTES, type HttpRequest, type HttpResponse, type HttpRoute } from '../http/types.ts';
import type { ScannerConnection, ScannerHub } from '../scanners/scanner-hub.ts';

export interface TransportOptions {
  host: string;
  port: number; // 0: any free port
  hub: ScannerHub;
  routes: HttpRoute[];
  idleTimeoutS: number;
  maxBackpressureBytes: number;
  onError?: (where: string, e: unknown) => void;
}

export interface RunningTransport {
  readonly port: number;
  /** Stops accepting connections; open sockets stay until closeConnections(). */
  stopListening(): void;
  closeConnections(): void;
}

interface SocketData {
  scannerId: string;
  connection?: ScannerConnection;
}

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK', 400: '400 Bad Request', 401: '401 Unauthorized', 403: '403 Forbidden', 404: '404 Not Found',
  409: '409 Conflict', 413: '413 Payload Too Large', 415: '415 Unsupported Media Type', 500: '500 Internal Server Error', 503: '503 Service Unavailable',
};
const statusLine = (status: number) => STATUS_TEXT[status] ?? `${status} Status`;

/** Frames we could accept and answer with FRAME_TOO_LARGE; beyond this uWS closes the socket (code 1009). */
const HARD_FRAME_LIMIT = MAX_FRAME_BYTES * 8;

function tokenOf(req: uws.HttpRequest): string | null {
  const auth = req.getHeader('authorization');
  if (auth.startsWith('Bearer ')) return auth.slice(7).trim();
  return req.getQuery('token') || null;
}

function readBody(res: uws.HttpResponse, state: { aborted: boolean }): Promise<Uint8Array | null> {
  return new Promise((resolve) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (state.aborted) return;
      size += chunk.byteLength;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        return;
      }
      chunks.push(new Uint8Array(chunk.slice(0))); // uWS reuses the chunk's memory after this callback
      if (isLast) resolve(Buffer.concat(chunks));
    });
  });
}

export function startTransport(opts: TransportOptions): Promise<RunningTransport> {
  const sockets = new Set<uws.WebSocket<SocketData>>();
  const app = uws.App();

  app.ws<SocketData>('/scanner', {
    maxPayloadLength: HARD_FRAME_LIMIT,
    idleTimeout: opts.idleTimeoutS,
    sendPingsAutomatically: true,
    maxBackpressure: opts.maxBackpressureBytes,
    closeOnBackpressureLimit: 1, // a scanner that cannot keep up is disconnected, not buffered without bound
    upgrade(res, req, context) {
      if (opts.hub.draining) {
        res.writeStatus('503 Service Unavailable').writeHeader('content-type', 'text/plain').writeHeader('retry-after', '1').end('gateway shutting down');
        return;
      }
      const protocols = req.getHeader('sec-websocket-protocol');
      const scannerId = opts.hub.authenticate(tokenOf(req));
      if (!scannerId) {
        res.writeStatus('401 Unauthorized').writeHeader('content-type', 'text/plain').end('scanner authentication required');
        return;
      }
      const offered = protocols.split(',').map((p) => p.trim());
      res.upgrade<SocketData>(
        { scannerId },
        req.getHeader('sec-websocket-key'),
        offered.includes(SUBPROTOCOL) ? SUBPROTOCOL : '',
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open(ws) {
      sockets.add(ws);
      const data = ws.getUserData();
      let closed = false;
      data.connection = {
        scannerId: data.scannerId,
        send(frame: GatewayFrame): boolean {
          if (closed || ws.getBufferedAmount() > opts.maxBackpressureBytes) return false;
          let status = 0;
          ws.cork(() => {
            status = ws.send(JSON.stringify(frame), false);
          });
          return status !== 2;
        },
      };
      ws.getUserData().connection = data.connection;
      (data as SocketData & { markClosed?: () => void }).markClosed = () => {
        closed = true;
      };
      opts.hub.opened(data.connection);
    },
    message(ws, message, isBinary) {
      const connection = ws.getUserData().connection!;
      const copy = message.slice(0); // the message buffer is only valid during this callback
      opts.hub.frame(connection, copy, isBinary).catch((e) => opts.onError?.('ws.message', e));
    },
    close(ws) {
      sockets.delete(ws);
      const data = ws.getUserData() as SocketData & { markClosed?: () => void };
      data.markClosed?.();
      if (data.connection) opts.hub.closed(data.connection);
    },
  });

  for (const route of opts.routes) {
    const names = [...route.pattern.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]);
    app[route.method](route.pattern, (res, req) => {
      const state = { aborted: false };
      res.onAborted(() => {
        state.aborted = true;
      });
      const params = Object.fromEntries(names.map((name, i) => [name, req.getParameter(i)]));
      const query = new URLSearchParams(req.getQuery() ?? '');
      const contentType = req.getHeader('content-type');
      const respond = (r: HttpResponse) => {
        if (state.aborted) return;
        res.cork(() => {
          res.writeStatus(statusLine(r.status)).writeHeader('content-type', r.contentType);
          for (const [k, v] of Object.entries(r.headers ?? {})) res.writeHeader(k, v);
          res.end(r.body);
        });
      };
      const body = route.method === 'post' ? readBody(res, state) : Promise.resolve(new Uint8Array(0));
      body.then(async (bytes) => {
        if (bytes === null) return respond({ status: 413, contentType: 'text/plain', body: 'body too large' });
        const request: HttpRequest = { params, query, body: bytes, contentType };
        respond(await route.handler(request));
      }).catch((e) => {
        opts.onError?.(`http ${route.pattern}`, e);
        respond({ status: 500, contentType: 'text/plain', body: 'internal error' });
      });
    });
  }
  app.any('/*', (res) => {
    res.writeStatus('404 Not Found').writeHeader('content-type', 'text/plain').end('not found');
  });

  return new Promise((resolve, reject) => {
    app.listen(opts.host, opts.port, (listenSocket) => {
      if (!listenSocket) {
        reject(new Error(`cannot listen on ${opts.host}:${opts.port}`));
        return;
      }
      resolve({
        port: uws.us_socket_local_port(listenSocket),
        stopListening: () => uws.us_listen_socket_close(listenSocket),
        closeConnections: () => {
          for (const ws of [...sockets]) ws.end(1001, 'gateway shutting down');
        },
      });
    });
  });
}
