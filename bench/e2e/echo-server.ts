/**
 * The transport ceiling: a bare uWebSockets.js echo endpoint on 127.0.0.1 that the same load generator
 * drives (bench/e2e/load.ts, mode "echo"). It accepts any upgrade on /scanner (no token check), greets with a
 * `welcome` frame like the gateway, and sends every text frame straight back. No parsing, no validation,
 * no store, no crypto: what is left is loopback, WebSocket framing and the generator itself.
 * (A bench tool: the gateway's rule that only gateway/transport/ imports uWS is for gateway/.)
 * stdout: {"event":"ready","port":…}; exits when stdin closes, on SIGTERM, or after BENCH_MAX_LIFETIME_S (1800).
 */
import uws from '@trufflesuite/uws-js-unofficial';
import { emit, exitWithParent } from '../../test/support/child-process.ts';

const WELCOME = JSON.stringify({ v: 1, type: 'welcome', scanner: 'echo', limits: { maxFrameBytes: 2048, framesPerSecond: 1_000_000 } });
const sockets = new Set<uws.WebSocket<object>>();

const app = uws.App().ws<object>('/scanner', {
  maxPayloadLength: 16 * 1024,
  idleTimeout: 60,
  sendPingsAutomatically: true,
  upgrade(res, req, context) {
    res.upgrade({}, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol').split(',')[0]?.trim() ?? '',
      req.getHeader('sec-websocket-extensions'), context);
  },
  open(ws) {
    sockets.add(ws);
    ws.send(WELCOME, false);
  },
  message(ws, message, isBinary) {
    ws.send(message, isBinary);
  },
  close(ws) {
    sockets.delete(ws);
  },
});

let listenSocket: uws.us_listen_socket | null = null;
const close = () => {
  if (listenSocket) uws.us_listen_socket_close(listenSocket);
  listenSocket = null;
  for (const ws of [...sockets]) ws.end(1001, 'echo server closing');
};
exitWithParent(close);
setTimeout(() => {
  close();
  process.exit(0);
}, Number(process.env.BENCH_MAX_LIFETIME_S ?? 1800) * 1000).unref();

app.listen('127.0.0.1', 0, (socket) => {
  if (!socket) {
    process.stderr.write('echo-server: cannot listen\n');
    process.exit(1);
  }
  listenSocket = socket;
  emit({ event: 'ready', port: uws.us_socket_local_port(socket), pid: process.pid });
});
