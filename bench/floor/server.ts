/**
 * The architecture's floor (issue 25): what a payment costs in this design when every step does nothing but
 * its transport. A bare uWebSockets.js server that speaks just enough of the scanner protocol for the
 * end-to-end load generator (bench/e2e/load.ts): it greets a connection with `welcome`, and per payment
 *   scan → a batched piscina task (the payload's open) → EVALSHA (the session's step) → auth-required
 *   pin  → EVALSHA (the attempt's step) → a batched piscina task (the PIN check) → EVALSHA (the payment's step)
 *        → payment-result, approved
 * that is, the gateway's two WebSocket round trips, its three Redis round trips and its two worker hops, in
 * the gateway's order (gateway/flow/scan.ts, pin.ts), batched by the gateway's own Batcher with its defaults,
 * tasks the size of its own (gateway/pool/tasks.ts). Each EVALSHA runs one script that writes one key (the
 * session's, with a TTL); the workers do trivial work (worker.ts); each frame is parsed once and answered with a
 * frame of the gateway's shape. Nothing else: no scanner token is checked (the load generator's upgrade is
 * accepted as the echo server accepts it), no card is opened, no rate limit, no metric, no log.
 * `bench:e2e` measures it in the same run as the gateway (its CPU per payment is the anchor our gateway's is
 * divided by); `npm run bench:serve -- floor` serves it alone. A bench tool, not shipped (bench/ only).
 * @example
 *   const floor = await startFloor(readFloorConfig(process.env));  // floor.url: ws://127.0.0.1:…/scanner
 *   await floor.close();
 */
import { fileURLToPath } from 'node:url';
import uws from '@trufflesuite/uws-js-unofficial';
import { Redis } from 'ioredis';
import { Piscina } from 'piscina';
import { Batcher } from '../../gateway/pool/batcher.ts';
import { ANSWER_SIZE, REQUEST_SIZE, type PoolTaskKind } from '../../gateway/pool/tasks.ts';
import { SUBPROTOCOL } from '../../protocol/messages.ts';
import type { FloorConfig } from './config.ts';
import type { FloorTask } from './worker.ts';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
/** One script, one key: the session's state, kept as long as a session is (GATEWAY_DEFAULTS.sessionTtlMs). */
const STEP_SCRIPT = "return redis.call('SET', KEYS[1], ARGV[1], 'PX', 120000)";
const SESSION = /^[0-9a-f]{32}$/;
const WELCOME = JSON.stringify({ v: 1, type: 'welcome', scanner: 'floor', limits: { maxFrameBytes: 2048, framesPerSecond: 1_000_000 } });

type StepRedis = Redis & { floorStep(key: string, state: string): Promise<unknown> };
interface Socket { open: boolean }

export interface Floor {
  port: number;
  opsPort: number;
  url: string; // ws://host:port/scanner
  close(): Promise<void>;
}

export async function startFloor(config: FloorConfig): Promise<Floor> {
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 }) as StepRedis;
  redis.on('error', () => {}); // a lost connection fails the payments in flight; ioredis reconnects
  redis.defineCommand('floorStep', { numberOfKeys: 1, lua: STEP_SCRIPT });
  await redis.connect();
  const piscina = new Piscina({ filename: WORKER, minThreads: config.threads, maxThreads: config.threads, execArgv: ['--import', import.meta.resolve('tsx')] });
  const batcher = (kind: PoolTaskKind) => new Batcher<Uint8Array, number>(async (requests) => {
    const requestSize = REQUEST_SIZE[kind];
    const packed = new Uint8Array(requests.length * requestSize);
    requests.forEach((request, i) => packed.set(request, i * requestSize));
    const task: FloorTask = { packed: packed.buffer, count: requests.length, requestSize, answerSize: ANSWER_SIZE[kind] };
    const transferList = [task.packed] as unknown as Parameters<Piscina['run']>[1] extends { transferList?: infer T } ? T : never;
    const answers = new Uint8Array(await piscina.run(task, { transferList }) as ArrayBuffer);
    return requests.map((_, i) => answers[i * ANSWER_SIZE[kind]]!);
  }, { ...config.batch, maxConcurrent: config.threads });
  const opens = batcher('open');
  const pins = batcher('pin');
  const key = (session: string) => `${config.prefix}floor:${session}`;
  let sessions = 0;

  const send = (ws: uws.WebSocket<Socket>, frame: object) => {
    if (ws.getUserData().open) ws.cork(() => ws.send(JSON.stringify(frame), false));
  };
  const fail = (ws: uws.WebSocket<Socket>, id: string | null, code: string) => send(ws, { v: 1, type: 'error', id, code, message: code });

  async function scan(ws: uws.WebSocket<Socket>, id: string): Promise<void> {
    const request = new Uint8Array(REQUEST_SIZE.open);
    request[0] = 1;
    await opens.submit(request);
    const session = (++sessions).toString(16).padStart(32, '0');
    await redis.floorStep(key(session), 'open');
    send(ws, {
      v: 1, type: 'auth-required', id, session, url: `http://floor/auth/${session}`, expiresAt: Date.now() + 120_000,
      merchant: 'floor', amount: 1, currency: 'EUR', maskedPan: '************0000',
    });
  }

  async function pin(ws: uws.WebSocket<Socket>, id: string, session: string): Promise<void> {
    await redis.floorStep(key(session), 'pin');
    const request = new Uint8Array(REQUEST_SIZE.pin);
    request[0] = 1;
    await pins.submit(request);
    await redis.floorStep(key(session), 'paid');
    send(ws, { v: 1, type: 'payment-result', id, session, outcome: 'approved', reason: null, replayed: false, receipt: null });
  }

  const decoder = new TextDecoder();
  const sockets = new Set<uws.WebSocket<Socket>>();
  const app = uws.App().ws<Socket>('/scanner', {
    maxPayloadLength: 16 * 1024,
    idleTimeout: 60,
    sendPingsAutomatically: true,
    upgrade(res, req, context) {
      const asked = req.getHeader('sec-websocket-protocol').split(',').map((p) => p.trim());
      res.upgrade<Socket>({ open: false }, req.getHeader('sec-websocket-key'), asked.includes(SUBPROTOCOL) ? SUBPROTOCOL : '',
        req.getHeader('sec-websocket-extensions'), context);
    },
    open(ws) {
      ws.getUserData().open = true;
      sockets.add(ws);
      ws.send(WELCOME, false);
    },
    message(ws, message, isBinary) {
      if (isBinary) return fail(ws, null, 'BAD_FRAME');
      let frame: { type?: unknown; id?: unknown; session?: unknown };
      try {
        frame = JSON.parse(decoder.decode(message)) as typeof frame;
      } catch {
        return fail(ws, null, 'BAD_FRAME');
      }
      if (frame === null || typeof frame !== 'object' || typeof frame.id !== 'string') return fail(ws, null, 'BAD_FRAME');
      const id = frame.id;
      const failed = () => fail(ws, id, 'FLOOR_FAILED');
      if (frame.type === 'scan') scan(ws, id).catch(failed);
      else if (frame.type === 'pin' && typeof frame.session === 'string' && SESSION.test(frame.session)) pin(ws, id, frame.session).catch(failed);
      else fail(ws, id, 'BAD_FRAME');
    },
    close(ws) {
      ws.getUserData().open = false;
      sockets.delete(ws);
    },
  });
  const ops = uws.App()
    .get('/healthz', (res) => void res.end('ok'))
    .get('/readyz', (res) => void (redis.status === 'ready' ? res.end('ready') : res.writeStatus('503 Service Unavailable').end('not ready')))
    .any('/*', (res) => void res.writeStatus('404 Not Found').end());

  const listen = (server: uws.TemplatedApp, host: string, port: number, what: string) => new Promise<uws.us_listen_socket>((resolve, reject) => {
    server.listen(host, port, (socket) => (socket ? resolve(socket) : reject(new Error(`the floor cannot listen on ${host}:${port} (${what})`))));
  });
  const listeners: uws.us_listen_socket[] = [];
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= (async () => {
    for (const socket of listeners) uws.us_listen_socket_close(socket);
    for (const ws of [...sockets]) ws.end(1001, 'floor closing');
    await piscina.close();
    redis.disconnect();
  })());
  try {
    listeners.push(await listen(app, config.host, config.port, 'PORT'));
    listeners.push(await listen(ops, config.opsHost, config.opsPort, 'OPS_PORT'));
  } catch (e) {
    await close();
    throw e;
  }
  const port = uws.us_socket_local_port(listeners[0]!);
  return { port, opsPort: uws.us_socket_local_port(listeners[1]!), url: `ws://${config.host}:${port}/scanner`, close };
}
