/**
 * The one module that imports uWebSockets.js. It turns uWS callbacks into calls on the ScannerHub and
 * the HTTP route handlers, and respects uWS's rules: an abort handler on every async response, corked
 * writes, backpressure checked before sending, frame and body size caps. Three listeners: the scanners'
 * (WebSocket and auth page; TLS with HSTS when given a certificate), the merchant API's (HTTP routes only, TLS
 * as the scanners'), and the ops listener (metrics, readiness detail), which binds loopback unless told
 * otherwise. A fourth, on a unix socket, lives only until the cork holder (UPGRADE_IN_CORK_BUG) has connected to it.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import uws from '@trufflesuite/uws-js-unofficial';
import WebSocket from 'ws';
import type { GatewayFrame } from '../../protocol/messages.ts';
import { HARD_FRAME_BYTES, SUBPROTOCOL } from '../../protocol/messages.ts';
import { PLAIN_ANSWERS, type HttpRequest, type HttpResponse, type HttpRoute, type ListenerAnswers } from '../http/types.ts';
import type { ScannerConnection } from '../scanners/directory.ts';
import type { ScannerHub } from '../scanners/scanner-hub.ts';

export interface TlsFiles {
  certFile: string; // PEM certificate (chain)
  keyFile: string; // PEM private key
}

export interface TransportOptions {
  host: string;
  port: number; // 0: any free port
  /** Share the scanners' port with processes of one group (SO_REUSEPORT); default: exclusive, a port in use fails. */
  sharedPort?: boolean;
  tls?: TlsFiles; // wss:// and https:// when set
  ops: { host: string; port: number };
  /** The merchant API's listener: TLS when `tls` is set; shares its port when `sharedPort` does. */
  merchant: { host: string; port: number };
  idleTimeoutS: number;
  maxBackpressureBytes: number;
  onError?: (where: string, e: unknown) => void;
}

/** What the listeners serve: the scanners' WebSocket and the page on one, the merchant API on another, the ops routes on the third. */
export interface TransportHandlers {
  hub: ScannerHub;
  routes: HttpRoute[];
  opsRoutes: HttpRoute[];
  merchant: { routes: HttpRoute[]; answers: ListenerAnswers };
}

export interface RunningTransport {
  readonly port: number;
  readonly opsPort: number;
  readonly merchantPort: number;
  /**
   * Attaches the handlers. Call it in the same turn as the listen resolved (no I/O runs in between, so no
   * request arrives before it): the gateway listens first because the page URLs need the bound port.
   */
  serve(handlers: TransportHandlers): void;
  /** Stops accepting scanner and merchant connections; open sockets stay until closeConnections(). */
  stopListening(): void;
  /**
   * Ends every scanner socket (1001), then, once the HTTP answers in progress are written (at most `httpDrainMs`),
   * closes the apps: idle keep-alive HTTP connections (a health check's, a scrape's) would otherwise hold the
   * process until uWS's own idle timeout.
   */
  closeConnections(httpDrainMs?: number): Promise<void>;
}

interface SocketData {
  deviceId: string;
  merchant: string | null;
  connection?: ScannerConnection;
}

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK', 400: '400 Bad Request', 401: '401 Unauthorized', 403: '403 Forbidden', 404: '404 Not Found',
  405: '405 Method Not Allowed', 409: '409 Conflict', 413: '413 Payload Too Large', 415: '415 Unsupported Media Type',
  422: '422 Unprocessable Content', 429: '429 Too Many Requests',
  500: '500 Internal Server Error', 503: '503 Service Unavailable',
};
const statusLine = (status: number) => STATUS_TEXT[status] ?? `${status} Status`;

/** docs/protocol.md §6 close codes: the one the gateway sends a scanner whose outbound queue is full. */
export const CLOSE_NOT_READING = { code: 1008, reason: 'outbound queue full: the scanner is not reading' } as const;

/**
 * UPGRADE_IN_CORK_BUG: how an authenticated upgrade is written, and why not inside its own res.cork().
 * Authentication asks the store, so with Redis the upgrade runs in a later tick, outside every uWS callback.
 * - Inside res.cork() on the upgrading response, this uWS.js build (20.30, @trufflesuite/uws-js-unofficial)
 *   can close the new WebSocket: once cb returns, if the corked socket is still `this`, cork reads `this`'s
 *   HTTP response state, and if that says "connection: close, no response pending" and nothing is buffered,
 *   it sends FIN and closes the socket. It assumes that an upgrade inside cb moved the socket (the adopt
 *   reallocates it) and so changed `this`. But the adopted WebSocket keeps its address (every one of ~100
 *   upgrades traced with gdb), so cork reads those flags at offset 0xf4 of memory that no longer holds them
 *   (res_cork's machine code: `mov 0xf4(%r15),%eax; and $0x18,%eax; cmp $0x10,%eax`, then shutdown, close).
 *   Values seen there: 0x5, 0, and sometimes the upper half of a heap pointer, e.g. 0x00007f51, which reads
 *   as CONNECTION_CLOSE. The scanner gets its 101 and its welcome, then both sides see 1006. It depends on
 *   the heap, so any gateway can meet it; test/gateway/processes.test.ts and upgrade-warnings.test.ts have.
 *   uWebSockets has since fixed it (pull request 1929: cork also compares the socket context); no uWS.js
 *   build on the npm registry has that fix and loads here (docs/deploy.md, known issues).
 * - Outside any cork, uWS prints "Warning: uWS.HttpResponse writes must be made from within a corked
 *   callback" to stderr (std::cerr; no flag turns it off) on every upgrade. What it checks is one counter per
 *   thread, which res.cork() and every uWS callback into JS raise.
 * - So the upgrade runs inside the cork of another socket, the CorkHolder below: a WebSocket the process
 *   holds to itself over a unix socket. While the holder is corked, res.cork() cannot cork `res` (one corked
 *   socket per loop) and does what uWS does whenever a cork is already held: it raises the counter and calls
 *   cb directly, with no check afterwards. No warning, and nothing reads HTTP flags from the new WebSocket.
 *   The 101 response itself is not corked: upgrade() sends it in 28 small writes (one syscall each, strace),
 *   as it did outside any cork; the welcome that open() sends is one write.
 * An upgrade whose authentication answered inside the upgrade callback itself (the embedded store) is still
 * corked by uWS's HTTP parser, as before: there neither cork call changes anything. HTTP answers (res.end
 * inside res.cork) are not affected: their socket stays an HTTP socket.
 */

/** Upgrades a response inside another socket's cork (UPGRADE_IN_CORK_BUG); close() ends that socket. */
interface CorkHolder {
  /** Runs `upgrade`, which upgrades `res`; without a holder (never made, or closed) uncorked, so uWS warns. */
  upgrade(res: uws.HttpResponse, upgrade: () => void): void;
  close(): void;
}

/**
 * The holder: one WebSocket from this process to itself. uWS listens on a unix socket in a private temp dir
 * (no TCP port is taken, not even for a moment), the client connects, then the listener closes and the dir
 * goes (the connection stays; nothing else can connect). It carries nothing, so it has no timeout and never
 * has backpressure. If it cannot be made, or closes before close(), upgrades run uncorked and onError says so.
 */
async function holdCork(onError?: (where: string, e: unknown) => void): Promise<CorkHolder> {
  const app = uws.App();
  let holderSocket: uws.WebSocket<unknown> | null = null;
  let closing = false;
  app.ws('/', {
    idleTimeout: 0, // no timeout: the holder is silent by design
    sendPingsAutomatically: false,
    maxPayloadLength: 125,
    open(ws) {
      if (holderSocket) ws.end(1008, 'one cork holder');
      else holderSocket = ws;
    },
    message: (ws) => ws.end(1008, 'the cork holder carries nothing'),
    close(ws) {
      if (ws !== holderSocket) return;
      holderSocket = null;
      if (!closing) onError?.('cork holder', new Error('closed: scanner upgrades now run uncorked and uWS prints a warning for each'));
    },
  });
  const holderClient = await connectToItself(app).catch((e: unknown) => {
    onError?.('cork holder', e);
    return null;
  });
  return {
    upgrade(res, upgrade) {
      if (holderSocket) holderSocket.cork(() => res.cork(upgrade));
      else upgrade();
    },
    close() {
      closing = true;
      holderSocket?.close();
      holderClient?.terminate();
    },
  };
}

/** `app` listens on a unix socket just long enough for one WebSocket client of this process to connect. */
async function connectToItself(app: uws.TemplatedApp): Promise<WebSocket> {
  const dir = await mkdtemp(join(tmpdir(), 'scanpay-cork-'));
  const path = join(dir, 'holder.sock');
  try {
    const listenSocket = await new Promise<uws.us_listen_socket>((resolve, reject) => {
      app.listen_unix((socket) => (socket ? resolve(socket) : reject(new Error(`cannot listen on ${path}`))), path);
    });
    try {
      const client = new WebSocket(`ws+unix://${path}:/`, { perMessageDeflate: false });
      await once(client, 'open');
      client.on('error', () => {}); // its closing is reported by the uWS side
      return client;
    } finally {
      uws.us_listen_socket_close(listenSocket);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}


/** HSTS on every response of a TLS listener: a browser that saw the page once never falls back to http. */
const HSTS = 'max-age=31536000';

function tokenOf(req: uws.HttpRequest): string | null {
  const auth = req.getHeader('authorization');
  if (/^bearer /i.test(auth)) return auth.slice(7).trim(); // the scheme is case-insensitive (RFC 9110 §11.1)
  return req.getQuery('token') || null;
}

const text = (buffer: ArrayBuffer) => Buffer.from(buffer).toString();

/** HTTP requests taken and not yet answered (or aborted): closing the apps waits for them. */
class PendingAnswers {
  #count = 0;
  #idle: (() => void)[] = [];

  begin(): () => void {
    this.#count++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.#count === 0) for (const resolve of this.#idle.splice(0)) resolve();
    };
  }

  /** Resolves once none is pending, or after `ms`. */
  async idle(ms: number): Promise<void> {
    if (this.#count === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise<void>((resolve) => this.#idle.push(resolve)), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }
}

/** Writes one answer, corked. */
function write(res: uws.HttpResponse, r: HttpResponse, extraHeaders: Record<string, string>): void {
  res.cork(() => {
    res.writeStatus(statusLine(r.status)).writeHeader('content-type', r.contentType);
    for (const [k, v] of Object.entries({ ...extraHeaders, ...r.headers })) res.writeHeader(k, v);
    res.end(r.body);
  });
}

/**
 * Registers HTTP routes on an app; every async answer is corked and skipped once the client has gone. What no
 * route takes gets the listener's `answers` (a path some route has, with another method: methodNotAllowed).
 */
function serveRoutes(
  app: uws.TemplatedApp, routes: HttpRoute[], answers: ListenerAnswers, extraHeaders: Record<string, string>, pending: PendingAnswers,
  onError?: (where: string, e: unknown) => void,
): void {
  for (const route of routes) {
    const names = [...route.pattern.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]);
    app[route.method === 'delete' ? 'del' : route.method](route.pattern, (res, req) => {
      const state = { aborted: false };
      const answered = pending.begin();
      res.onAborted(() => {
        state.aborted = true;
        answered();
      });
      // uWS request objects are valid only in this callback: read everything now
      const params = Object.fromEntries(names.map((name, i) => [name, req.getParameter(i)]));
      const query = new URLSearchParams(req.getQuery() ?? '');
      const headers = {
        contentType: req.getHeader('content-type'), origin: req.getHeader('origin'), fetchSite: req.getHeader('sec-fetch-site'),
        authorization: req.getHeader('authorization'), idempotencyKey: req.getHeader('idempotency-key'),
      };
      const remoteAddress = text(res.getRemoteAddressAsText());
      const respond = (r: HttpResponse) => {
        answered();
        if (!state.aborted) write(res, r, extraHeaders);
      };
      const body = route.method !== 'get' ? readBody(res, state, answers.maxBodyBytes) : Promise.resolve(new Uint8Array(0));
      body.then(async (bytes) => {
        if (bytes === null) return respond(answers.bodyTooLarge);
        const request: HttpRequest = { params, query, body: bytes, ...headers, remoteAddress };
        respond(await route.handler(request));
      }).catch((e) => {
        onError?.(`http ${route.pattern}`, e);
        respond(answers.internalError);
      });
    });
  }
  const { methodNotAllowed } = answers;
  if (methodNotAllowed) {
    // uWS prefers a method's handler to `any` on the same pattern, whatever the order they were added in
    const methods = new Map<string, string[]>();
    for (const route of routes) methods.set(route.pattern, [...(methods.get(route.pattern) ?? []), route.method.toUpperCase()]);
    for (const [pattern, allowed] of methods) app.any(pattern, (res) => write(res, methodNotAllowed(allowed.sort()), extraHeaders));
  }
  app.any('/*', (res) => write(res, answers.notFound, extraHeaders));
}

const cannotListen = (host: string, port: number, what: string, shared: boolean) =>
  new Error(`cannot listen on ${host}:${port} (${what}): the port is in use or the address is not this host's${shared ? '' : '; to run several gateway processes on one port, start them together with --processes N'}`);

/**
 * Listens exclusively unless `shared`: uWS on Linux sets SO_REUSEPORT by default, so a second gateway started
 * by mistake on a port in use would silently take half its connections. (The native listen takes host, port,
 * options; test/gateway/processes.test.ts checks both ways.)
 */
function listenOn(app: uws.TemplatedApp, host: string, port: number, what: string, shared: boolean): Promise<uws.us_listen_socket> {
  // uws.d.ts declares the options only in listen(port, options, cb), as an enum the module does not export;
  // the module exports LIBUS_LISTEN_EXCLUSIVE_PORT (1) alone, LIBUS_LISTEN_DEFAULT is 0
  const native = uws as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT: number };
  const withOptions = app as unknown as { listen(h: string, p: number, o: number, cb: (s: uws.us_listen_socket | false) => void): unknown };
  return new Promise((resolve, reject) => {
    withOptions.listen(host, port, shared ? 0 : native.LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) => {
      if (socket) resolve(socket);
      else reject(cannotListen(host, port, what, shared));
    });
  });
}

/** A port the kernel picks on host: bound by a plain listener and released at once (nothing connected, so nothing left in TIME_WAIT). */
function pickPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Port 0 is resolved here, not by uSockets: its listen sets SO_REUSEADDR only when given a port (strace: a
 * port-0 listen gets no socket option at all). The connections such a listener accepted inherit that, so
 * once the gateway has closed them (server side in TIME_WAIT) a new gateway cannot bind that port for 60 s,
 * even with SO_REUSEADDR itself: Linux lets a bind pass a TIME_WAIT socket only when both set it. With the
 * port picked first, every listener has SO_REUSEADDR, and a gateway restarted on the port it was given
 * listens at once (test/sdk/reconnect.test.ts). A port taken between the pick and the listen: picked again.
 */
async function listen(app: uws.TemplatedApp, host: string, port: number, what: string, shared = false): Promise<uws.us_listen_socket> {
  if (port !== 0) return listenOn(app, host, port, what, shared);
  for (let attempt = 1; ; attempt++) {
    const picked = await pickPort(host).catch(() => {
      throw cannotListen(host, port, what, shared);
    });
    try {
      return await listenOn(app, host, picked, what, shared);
    } catch (e) {
      if (attempt === 5) throw e;
    }
  }
}

interface ListenSpec {
  app: uws.TemplatedApp;
  host: string;
  port: number;
  what: string;
  shared: boolean;
}

/**
 * listen() for listeners that must take no request before serve() attaches their handlers: every port 0 is
 * picked first (I/O), then each listens in turn with no I/O in between (uWS calls the listen callback at once).
 * A picked port taken meanwhile: every one picked again, up to 5 times; a given port in use fails at once.
 */
async function listenTogether(specs: ListenSpec[]): Promise<uws.us_listen_socket[]> {
  for (let attempt = 1; ; attempt++) {
    const ports: number[] = [];
    for (const s of specs) {
      ports.push(s.port !== 0 ? s.port : await pickPort(s.host).catch(() => {
        throw cannotListen(s.host, 0, s.what, s.shared);
      }));
    }
    const sockets: uws.us_listen_socket[] = [];
    try {
      for (const [i, s] of specs.entries()) sockets.push(await listenOn(s.app, s.host, ports[i]!, s.what, s.shared));
      return sockets;
    } catch (e) {
      for (const socket of sockets) uws.us_listen_socket_close(socket); // none left open
      if (attempt === 5 || specs[sockets.length]!.port !== 0) throw e;
    }
  }
}

/** The body, or null past `max` bytes (answered at once: the rest is not read). */
function readBody(res: uws.HttpResponse, state: { aborted: boolean }, max: number): Promise<Uint8Array | null> {
  return new Promise((resolve) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (state.aborted) return;
      size += chunk.byteLength;
      if (size > max) {
        resolve(null);
        return;
      }
      chunks.push(new Uint8Array(chunk.slice(0))); // uWS reuses the chunk's memory after this callback
      if (isLast) resolve(Buffer.concat(chunks));
    });
  });
}

/** Binds both listeners (a port in use fails here); `serve` then attaches what they answer. */
export async function startTransport(opts: TransportOptions): Promise<RunningTransport> {
  const sockets = new Set<uws.WebSocket<SocketData>>();
  const tlsApp = () => (opts.tls ? uws.SSLApp({ cert_file_name: opts.tls.certFile, key_file_name: opts.tls.keyFile }) : uws.App());
  const app = tlsApp();
  const merchant = tlsApp();
  const ops = uws.App();
  // the merchant API's and the scanners' listeners last: from their listens to serve() no I/O runs (picking a
  // port for 0 is I/O, done before either listens), so no request arrives before the handlers are there
  const opsSocket = await listen(ops, opts.ops.host, opts.ops.port, 'ops');
  const corkHolder = await holdCork(opts.onError);
  const shared = opts.sharedPort ?? false;
  const [merchantSocket, listenSocket] = await listenTogether([
    { app: merchant, host: opts.merchant.host, port: opts.merchant.port, what: 'merchant API', shared },
    { app, host: opts.host, port: opts.port, what: 'scanners', shared },
  ]).catch((e: unknown) => {
    uws.us_listen_socket_close(opsSocket); // none left open
    corkHolder.close();
    throw e;
  });
  const pending = new PendingAnswers();
  return {
    port: uws.us_socket_local_port(listenSocket!),
    opsPort: uws.us_socket_local_port(opsSocket),
    merchantPort: uws.us_socket_local_port(merchantSocket!),
    serve: (handlers) => serve(app, merchant, ops, sockets, corkHolder, pending, opts, handlers),
    stopListening() {
      uws.us_listen_socket_close(listenSocket!);
      uws.us_listen_socket_close(merchantSocket!);
    },
    async closeConnections(httpDrainMs = 2_000) {
      for (const ws of [...sockets]) ws.end(1001, 'gateway shutting down');
      uws.us_listen_socket_close(opsSocket);
      corkHolder.close();
      await pending.idle(httpDrainMs);
      await new Promise((resolve) => setImmediate(resolve)); // the last answers' bytes leave before their sockets close
      // close() is in this uWS.js build but not in its typings: it closes every socket of the app, idle keep-alive ones too
      for (const each of [app, merchant, ops]) (each as unknown as { close(): void }).close();
    },
  };
}

function serve(
  app: uws.TemplatedApp, merchant: uws.TemplatedApp, ops: uws.TemplatedApp, sockets: Set<uws.WebSocket<SocketData>>, corkHolder: CorkHolder,
  pending: PendingAnswers, opts: TransportOptions, { hub, routes, opsRoutes, merchant: merchantApi }: TransportHandlers,
): void {
  const extraHeaders: Record<string, string> = opts.tls ? { 'strict-transport-security': HSTS } : {};
  app.ws<SocketData>('/scanner', {
    maxPayloadLength: HARD_FRAME_BYTES, // past it uWS closes the socket (1009)
    idleTimeout: opts.idleTimeoutS,
    sendPingsAutomatically: true,
    // headroom above our own limit (checked in send) so the 1008 close frame itself still fits the queue
    maxBackpressure: 2 * opts.maxBackpressureBytes + 16 * 1024,
    closeOnBackpressureLimit: 0, // send() disconnects a scanner that cannot keep up, with CLOSE_NOT_READING
    upgrade(res, req, context) {
      if (hub.draining) {
        res.writeStatus('503 Service Unavailable').writeHeader('content-type', 'text/plain').writeHeader('retry-after', '1').end('gateway shutting down');
        return;
      }
      // the request is valid only in this callback; authentication asks the store, so read everything first
      const offered = req.getHeader('sec-websocket-protocol').split(',').map((p) => p.trim()).filter(Boolean);
      if (offered.length > 0 && !offered.includes(SUBPROTOCOL)) {
        // refused before the token is looked at, so a client that offered the wrong version keeps its token
        res.writeStatus('400 Bad Request').writeHeader('content-type', 'text/plain').end(`unsupported subprotocol: offer ${SUBPROTOCOL}`);
        return;
      }
      const key = req.getHeader('sec-websocket-key');
      const extensions = req.getHeader('sec-websocket-extensions');
      const token = tokenOf(req);
      const remoteAddress = text(res.getRemoteAddressAsText()); // the caller a failed authentication costs
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      let upgraded = false;
      hub.authenticate(token, remoteAddress).then((verdict) => {
        if (aborted) return;
        if (!verdict.ok) {
          res.cork(() => {
            const [status, body] = verdict.status === 429 ? ['429 Too Many Requests', 'too many connections; slow down'] : ['401 Unauthorized', 'scanner authentication required'];
            res.writeStatus(status).writeHeader('content-type', 'text/plain');
            if (verdict.status === 429) res.writeHeader('retry-after', '1');
            res.end(body);
          });
          return;
        }
        // inside the cork holder's cork, not a cork of res's own (UPGRADE_IN_CORK_BUG above says why)
        upgraded = true; // from here on `res` is the WebSocket's memory: never touch it again
        corkHolder.upgrade(res, () => res.upgrade<SocketData>({ deviceId: verdict.deviceId, merchant: verdict.merchant }, key, offered.includes(SUBPROTOCOL) ? SUBPROTOCOL : '', extensions, context));
      }).catch((e) => {
        opts.onError?.('ws.upgrade', e);
        if (!aborted && !upgraded) res.cork(() => res.writeStatus('503 Service Unavailable').writeHeader('retry-after', '1').end('try again'));
      });
    },
    open(ws) {
      sockets.add(ws);
      const data = ws.getUserData();
      let closed = false;
      data.connection = {
        deviceId: data.deviceId,
        merchant: data.merchant,
        send(frame: GatewayFrame): boolean {
          if (closed) return false;
          if (ws.getBufferedAmount() > opts.maxBackpressureBytes) {
            // a scanner that does not read is disconnected, with a reason, rather than fed answers it never sees
            closed = true;
            ws.end(CLOSE_NOT_READING.code, CLOSE_NOT_READING.reason);
            return false;
          }
          let status = 0;
          ws.cork(() => {
            status = ws.send(JSON.stringify(frame), false);
          });
          return status !== 2;
        },
        close(code: number, reason: string): void {
          if (closed) return;
          closed = true;
          ws.end(code, reason);
        },
      };
      ws.getUserData().connection = data.connection;
      (data as SocketData & { markClosed?: () => void }).markClosed = () => {
        closed = true;
      };
      hub.opened(data.connection);
    },
    message(ws, message, isBinary) {
      const connection = ws.getUserData().connection!;
      // the message buffer is only valid during this callback: the hub reads the frame before frame() returns, so no copy
      hub.frame(connection, message, isBinary).catch((e) => opts.onError?.('ws.message', e));
    },
    close(ws) {
      sockets.delete(ws);
      const data = ws.getUserData() as SocketData & { markClosed?: () => void };
      data.markClosed?.();
      if (data.connection) hub.closed(data.connection);
    },
  });

  serveRoutes(app, routes, PLAIN_ANSWERS, extraHeaders, pending, opts.onError);
  serveRoutes(merchant, merchantApi.routes, merchantApi.answers, extraHeaders, pending, opts.onError);
  serveRoutes(ops, opsRoutes, PLAIN_ANSWERS, {}, pending, opts.onError);
}
