/**
 * The end-to-end load generator (its own process, started by bench/e2e/run.ts). Configured by one JSON
 * document in BENCH_LOAD (see LoadConfig); prints JSON lines on stdout, the last one {"event":"result",…}.
 *
 * mode "payments": N authenticated scanner connections on 127.0.0.1, each running complete payments —
 *   scan → auth-required → pin → payment-result — with cards issued beforehand (cardsFile).
 * mode "echo": the same frames against the bare echo server (echo-server.ts); a "payment" is then two
 *   round trips (scan echoed, pin echoed), so payments/s there is the transport ceiling for this flow.
 * mode "idle": opens N connections (each its own device id), in `stages` steps: after each it prints
 *   {"event":"opened"} and waits for "next" on stdin; after the last it holds them without sending anything
 *   until stdin says "close" (or closes, or holdS passes), then reports unexpected closes.
 * mode "payments" with `light`: light load — `light.inFlight` connections each start one payment at the same
 *   moment, the next group starts `light.pauseMs` after the whole group finished; `light.warmupPayments` first
 *   (not measured), then `light.payments` measured ones. The window runs from the middle of the pause before the
 *   first measured group to the middle of the pause after the last, so it holds exactly that many payments and
 *   the orchestrator's readings fall in idle time.
 * Around the measurement window it prints {"event":"window-start"} and {"event":"window-end"}, so the
 * orchestrator can read the CPU time of every process over exactly that window.
 *
 * Closed loop (no ratePerS): connections open one after another over rampS, each runs payments back to back;
 * the measurement window starts when the ramp ends. Open loop (ratePerS): all connections open first, the
 * arrival rate ramps from 10% to 100% over rampS, then payments start on a fixed schedule (round-robin over
 * the connections; several may be in flight on one connection, told apart by request id) and the latency of
 * a whole payment counts from its scheduled start, so a stalled gateway cannot hide its queue (no coordinated
 * omission). Either way the window lasts durationS or until maxPayments payments have started, whichever
 * comes first; then the generator waits for the payments in flight (at most requestTimeoutMs) and exits.
 */
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { SUBPROTOCOL } from '../../protocol/messages.ts';
import { deviceSecret, signScannerToken } from '../../protocol/scanner-token.ts';
import { emit, exitWithParent } from '../../test/support/child-process.ts';
import { latencyHistogram, recordMs, summarize, type Histogram, type LatencySummary } from '../lib/latency.ts';

export interface LoadConfig {
  mode: 'payments' | 'echo' | 'idle';
  url: string; // ws://127.0.0.1:port/scanner
  fleetKeyHex: string;
  cardsFile?: string; // JSON [{ payload, pin }] (payments mode)
  connections: number;
  devicePrefix: string; // device id of connection i: devicePrefix + i
  rampS: number;
  durationS: number;
  maxPayments: number; // bound on payments started (ramp included)
  ratePerS?: number; // open loop; absent: closed loop
  requestTimeoutMs: number;
  openConcurrency: number; // WebSocket handshakes in flight while connecting
  holdS?: number; // idle mode: the longest it holds the connections
  stages?: number; // idle mode: open the connections in this many equal steps, waiting for "next" on stdin after each
  amount?: number;
  currency?: string;
  merchant?: string;
  /** Light load (payments mode, no ratePerS): groups of inFlight payments with a pause between groups. */
  light?: { inFlight: number; pauseMs: number; warmupPayments: number; payments: number };
}

export interface LoadResult {
  event: 'result';
  mode: LoadConfig['mode'];
  loop: 'closed' | 'open';
  connections: { wanted: number; opened: number; failed: number; openMs: number; closedEarly: number };
  targetPerS: number | null;
  windowS: number;
  payments: { started: number; completedInWindow: number; approvedInWindow: number; failedInWindow: number };
  paymentsPerS: number; // approved payments completed in the window ÷ window
  roundTripsPerS: number; // request/response pairs completed in the window ÷ window
  latency: { scan: LatencySummary; pin: LatencySummary; payment: LatencySummary };
  errors: Record<string, number>;
  boundReached: boolean;
  saturated: boolean; // open loop: over capacity — the backlog of outstanding payments hit its cap and later arrivals were dropped (GEN_OVERLOAD)
  generator: { cpuPercent: number; busyPercent: number };
}

type Frame = { type: string; id?: string | null; code?: string; session?: string; outcome?: string; reason?: string | null };
type Waiter = { resolve: (frame: Frame) => void; deadline: number };

interface Conn {
  index: number;
  ws: WebSocket;
  open: boolean;
  pending: Map<string, Waiter>;
}

const config = JSON.parse(process.env.BENCH_LOAD ?? '{}') as LoadConfig;
const fleetKey = new Uint8Array(Buffer.from(config.fleetKeyHex, 'hex'));
const cards: { payload: string; pin: string }[] = config.cardsFile ? JSON.parse(readFileSync(config.cardsFile, 'utf8')) : [];
if (config.mode === 'payments' && cards.length === 0) throw new Error('payments mode needs cards (cardsFile)');
const AMOUNT = config.amount ?? 1250;
const CURRENCY = config.currency ?? 'EUR';
const MERCHANT = config.merchant ?? 'bench-shop';
const ECHO_SESSION = '0'.repeat(32);
const expectScan = config.mode === 'echo' ? 'scan' : 'auth-required';
const expectPin = config.mode === 'echo' ? 'pin' : 'payment-result';

const errors: Record<string, number> = {};
const bump = (code: string) => {
  errors[code] = (errors[code] ?? 0) + 1;
};
const h: { scan: Histogram; pin: Histogram; payment: Histogram } = { scan: latencyHistogram(), pin: latencyHistogram(), payment: latencyHistogram() };
const conns: Conn[] = [];
let closedEarly = 0;
let shuttingDown = false;

// ---- connections ---------------------------------------------------------------------------------------

const secrets = new Map<string, Uint8Array>();
function tokenFor(deviceId: string): string {
  let secret = secrets.get(deviceId);
  if (!secret) secrets.set(deviceId, (secret = deviceSecret(fleetKey, deviceId)));
  return signScannerToken(deviceId, secret);
}

/** Opens connection `index` and resolves once the gateway's welcome arrived (or null on failure). */
function connect(index: number): Promise<Conn | null> {
  return new Promise((resolve) => {
    const deviceId = `${config.devicePrefix}${index}`;
    const ws = new WebSocket(config.url, SUBPROTOCOL, {
      headers: { authorization: `Bearer ${tokenFor(deviceId)}` },
      perMessageDeflate: false,
      handshakeTimeout: 15_000,
    });
    const conn: Conn = { index, ws, open: false, pending: new Map() };
    let settled = false;
    const settle = (value: Conn | null, code?: string) => {
      if (settled) return;
      settled = true;
      if (code) bump(code);
      resolve(value);
    };
    ws.on('unexpected-response', (_req, res) => {
      settle(null, res.statusCode === 401 ? 'UNAUTHORIZED' : `HTTP_${res.statusCode}`);
      ws.terminate();
    });
    ws.on('error', (e: NodeJS.ErrnoException) => settle(null, `CONNECT_${e.code ?? 'ERROR'}`));
    ws.on('close', () => {
      const wasOpen = conn.open;
      conn.open = false;
      if (!settled) settle(null, 'CONNECT_CLOSED');
      else if (wasOpen && !shuttingDown) {
        closedEarly++;
        bump('CLOSED');
      }
      for (const waiter of conn.pending.values()) waiter.resolve({ type: 'closed' });
      conn.pending.clear();
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return bump('GEN_BINARY_FRAME');
      let frame: Frame;
      try {
        frame = JSON.parse(data.toString()) as Frame;
      } catch {
        return bump('GEN_BAD_JSON');
      }
      if (frame.type === 'welcome') {
        conn.open = true;
        settle(conn);
        return;
      }
      const id = frame.id;
      const waiter = typeof id === 'string' ? conn.pending.get(id) : undefined;
      if (!waiter) {
        bump(frame.type === 'error' ? `push:${frame.code}` : `GEN_UNEXPECTED_${frame.type}`);
        return;
      }
      conn.pending.delete(id!);
      waiter.resolve(frame);
    });
  });
}

/** Opens connections [from, to) with at most openConcurrency handshakes at a time, optionally staggered over spreadMs. */
async function connectAll(from: number, to: number, spreadMs = 0): Promise<void> {
  let next = from;
  const started = performance.now();
  const worker = async () => {
    while (next < to) {
      const index = next++;
      if (spreadMs > 0) {
        const due = started + ((index - from) / Math.max(1, to - from)) * spreadMs;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const conn = await connect(index);
      if (conn) {
        conns.push(conn);
        onConnected?.(conn);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.openConcurrency, to - from) }, worker));
}
let onConnected: ((conn: Conn) => void) | undefined;

// ---- requests and payments -----------------------------------------------------------------------------

function request(conn: Conn, id: string, frame: object): Promise<Frame> {
  return new Promise((resolve) => {
    if (!conn.open) return resolve({ type: 'closed' });
    conn.pending.set(id, { resolve, deadline: performance.now() + config.requestTimeoutMs });
    conn.ws.send(JSON.stringify(frame));
  });
}

// One sweep for every request's timeout, instead of a timer per request.
const sweeper = setInterval(() => {
  const now = performance.now();
  for (const conn of conns) {
    for (const [id, waiter] of conn.pending) {
      if (waiter.deadline < now) {
        conn.pending.delete(id);
        waiter.resolve({ type: 'timeout' });
      }
    }
  }
}, 200);

let windowStart = Number.POSITIVE_INFINITY;
let windowEnd = Number.POSITIVE_INFINITY;
const inWindow = (t: number) => t >= windowStart && t <= windowEnd;
let seq = 0;
let started = 0;
let outstanding = 0;
let completedInWindow = 0;
let approvedInWindow = 0;
let failedInWindow = 0;
let roundTripsInWindow = 0;
let boundReached = false;

function codeOf(frame: Frame): string {
  if (frame.type === 'error') return frame.code ?? 'ERROR';
  if (frame.type === 'timeout') return 'TIMEOUT';
  if (frame.type === 'closed') return 'CLOSED';
  if (frame.type === 'payment-result' && frame.outcome === 'declined') return `DECLINED_${frame.reason ?? 'UNKNOWN'}`;
  return `UNEXPECTED_${frame.type}`;
}

/** One whole payment on `conn`; `scheduledAt` is the open loop's intended start. Resolves true if approved. */
async function payment(conn: Conn, scheduledAt?: number): Promise<boolean> {
  const n = ++seq;
  started++;
  outstanding++;
  try {
    const card = cards.length > 0 ? cards[n % cards.length]! : { payload: 'echo', pin: '0000' };
    const t0 = performance.now();
    const scanId = `${n}s`;
    const answer = await request(conn, scanId, { v: 1, type: 'scan', id: scanId, payload: card.payload, amount: AMOUNT + (n % 100), currency: CURRENCY, merchant: MERCHANT });
    const t1 = performance.now();
    if (answer.type !== expectScan) return fail(answer, t1);
    if (inWindow(t1)) {
      recordMs(h.scan, t1 - t0);
      roundTripsInWindow++;
    }
    const pinId = `${n}p`;
    const result = await request(conn, pinId, { v: 1, type: 'pin', id: pinId, session: answer.session ?? ECHO_SESSION, pin: card.pin });
    const t2 = performance.now();
    if (result.type !== expectPin || (result.type === 'payment-result' && result.outcome !== 'approved')) return fail(result, t2);
    if (inWindow(t2)) {
      recordMs(h.pin, t2 - t1);
      recordMs(h.payment, t2 - (scheduledAt ?? t0));
      roundTripsInWindow++;
      completedInWindow++;
      approvedInWindow++;
    }
    return true;
  } finally {
    outstanding--;
  }
}

function fail(frame: Frame, at: number): false {
  bump(codeOf(frame));
  if (inWindow(at)) {
    completedInWindow++;
    failedInWindow++;
  }
  return false;
}

const mayStart = () => {
  if (started >= config.maxPayments) {
    if (!boundReached) {
      boundReached = true;
      windowEnd = Math.min(windowEnd, performance.now());
    }
    return false;
  }
  return performance.now() < windowEnd;
};

async function closedLoop(conn: Conn): Promise<void> {
  while (conn.open && mayStart()) {
    const ok = await payment(conn);
    if (!ok && conn.open) await new Promise((r) => setTimeout(r, 5)); // no hot loop on a persistent error
  }
}

let saturated = false;
let dropped = 0;
function openLoop(rate: number, rampMs: number): Promise<void> {
  const maxOutstanding = Math.max(1_000, config.connections * 16);
  let rr = 0;
  const live = () => {
    for (let i = 0; i < conns.length; i++) {
      const conn = conns[rr++ % conns.length]!;
      if (conn.open) return conn;
    }
    return null;
  };
  const launch = (scheduledAt?: number) => {
    const conn = live();
    if (!conn) return bump('GEN_NO_CONNECTION');
    if (outstanding >= maxOutstanding) {
      saturated = true;
      dropped++;
      return bump('GEN_OVERLOAD');
    }
    void payment(conn, scheduledAt);
  };
  return new Promise((resolve) => {
    const t0 = performance.now();
    let credit = 0;
    let last = t0;
    let scheduled = 0; // arrivals of the measured phase so far
    const tick = () => {
      const now = performance.now();
      if (now < t0 + rampMs) { // ramp: 10% → 100% of the rate, arrivals at the tick
        credit += (rate * (0.1 + (0.9 * (now - t0)) / rampMs) * (now - last)) / 1000;
        last = now;
        while (credit >= 1 && mayStart()) {
          credit--;
          launch();
        }
      } else {
        if (windowStart === Number.POSITIVE_INFINITY) {
          windowStart = t0 + rampMs;
          windowEnd = windowStart + config.durationS * 1000;
          markWindowStart();
        }
        while (mayStart()) {
          const due = windowStart + (scheduled * 1000) / rate;
          if (due > now) break;
          scheduled++;
          launch(due);
        }
      }
      if (mayStart() || now < windowStart) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
}

async function drain(): Promise<void> {
  const until = performance.now() + config.requestTimeoutMs + 1_000;
  while (outstanding > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
}

async function closeAll(): Promise<void> {
  shuttingDown = true;
  clearInterval(sweeper);
  const closing = conns.map((c) => new Promise<void>((resolve) => {
    if (c.ws.readyState === WebSocket.CLOSED) return resolve();
    c.ws.once('close', () => resolve());
    c.ws.close(1000, 'done');
    setTimeout(() => {
      c.ws.terminate();
      resolve();
    }, 2_000).unref();
  }));
  await Promise.all(closing);
}

function result(openMs: number, failed: number): LoadResult {
  const windowS = Number.isFinite(windowStart) && Number.isFinite(windowEnd) ? Math.max(0.001, (windowEnd - windowStart) / 1000) : 0;
  const { cpu, elu, wallMs } = usage ?? { cpu: process.cpuUsage(cpu0), elu: performance.eventLoopUtilization(elu0), wallMs: performance.now() - wall0 };
  return {
    event: 'result',
    mode: config.mode,
    loop: config.ratePerS ? 'open' : 'closed',
    connections: { wanted: config.connections, opened: conns.length, failed, openMs, closedEarly },
    targetPerS: config.ratePerS ?? null,
    windowS,
    payments: { started, completedInWindow, approvedInWindow, failedInWindow },
    paymentsPerS: windowS ? approvedInWindow / windowS : 0,
    roundTripsPerS: windowS ? roundTripsInWindow / windowS : 0,
    latency: { scan: summarize(h.scan), pin: summarize(h.pin), payment: summarize(h.payment) },
    errors: { ...errors, ...(dropped ? { GEN_OVERLOAD: dropped } : {}) },
    boundReached,
    saturated,
    generator: { cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100, busyPercent: elu.utilization * 100 },
  };
}

// ---- main ------------------------------------------------------------------------------------------------

let cpu0 = process.cpuUsage();
let elu0 = performance.eventLoopUtilization();
let wall0 = performance.now();
const resetUsage = () => {
  cpu0 = process.cpuUsage();
  elu0 = performance.eventLoopUtilization();
  wall0 = performance.now();
};
let usage: { cpu: NodeJS.CpuUsage; elu: ReturnType<typeof performance.eventLoopUtilization>; wallMs: number } | undefined;
function markWindowStart(): void {
  resetUsage();
  emit({ event: 'window-start' });
}
function markWindowEnd(): void {
  usage = { cpu: process.cpuUsage(cpu0), elu: performance.eventLoopUtilization(elu0), wallMs: performance.now() - wall0 };
  emit({ event: 'window-end' });
}

let releaseIdle: () => void = () => {};
exitWithParent(async () => {
  releaseIdle();
  await closeAll();
});
const hardStop = setTimeout(() => {
  process.stderr.write('load: hard time limit reached\n');
  process.exit(2);
}, (config.rampS + config.durationS + (config.holdS ?? 0) + config.requestTimeoutMs / 1000 + 120) * 1000);
hardStop.unref();

const openStarted = performance.now();
if (config.mode === 'idle') {
  const stages = Math.max(1, config.stages ?? 1);
  const lines: string[] = [];
  let lineWaiter: (() => void) | undefined;
  createInterface({ input: process.stdin }).on('line', (line) => {
    lines.push(line.trim());
    lineWaiter?.();
  });
  /** Resolves with the next stdin line, or 'close' after holdS. */
  const nextLine = () => new Promise<string>((resolve) => {
    const take = () => {
      if (lines.length === 0) return false;
      lineWaiter = undefined;
      resolve(lines.shift()!);
      return true;
    };
    if (take()) return;
    const timer = setTimeout(() => resolve('close'), (config.holdS ?? 60) * 1000);
    timer.unref();
    lineWaiter = () => {
      if (take()) clearTimeout(timer);
    };
    releaseIdle = () => resolve('close');
  });
  let openMs = 0;
  for (let stage = 1; stage <= stages; stage++) {
    const stageStarted = performance.now();
    await connectAll(Math.round(((stage - 1) * config.connections) / stages), Math.round((stage * config.connections) / stages));
    openMs += performance.now() - stageStarted;
    emit({ event: 'opened', stage, stages, opened: conns.length, failed: Math.round((stage * config.connections) / stages) - conns.length, openMs, errors });
    if (stage < stages && (await nextLine()) === 'close') break;
  }
  while ((await nextLine()) !== 'close') { /* hold */ }
  const early = closedEarly;
  await closeAll();
  emit({ ...result(openMs, config.connections - conns.length), connections: { wanted: config.connections, opened: conns.length, failed: config.connections - conns.length, openMs, closedEarly: early } });
} else if (config.light) {
  const { inFlight, pauseMs, warmupPayments, payments } = config.light;
  await connectAll(0, Math.max(config.connections, inFlight));
  const openMs = performance.now() - openStarted;
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const group = async () => {
    const live = conns.filter((c) => c.open).slice(0, inFlight);
    if (live.length < inFlight) bump('GEN_NO_CONNECTION');
    await Promise.all(live.map((conn) => payment(conn)));
  };
  for (let done = 0; done < warmupPayments; done += inFlight) {
    await group();
    await pause(pauseMs);
  }
  // the window: from the middle of one pause to the middle of the pause after the last measured group
  await pause(pauseMs / 2);
  windowStart = performance.now();
  markWindowStart();
  await pause(pauseMs / 2);
  for (let done = 0; done < payments; done += inFlight) {
    if (done > 0) await pause(pauseMs);
    await group();
  }
  await pause(pauseMs / 2);
  windowEnd = performance.now();
  markWindowEnd();
  const r = result(openMs, config.connections - conns.length);
  await closeAll();
  emit(r);
} else if (config.ratePerS) {
  await connectAll(0, config.connections);
  const openMs = performance.now() - openStarted;
  resetUsage();
  await openLoop(config.ratePerS, config.rampS * 1000);
  markWindowEnd();
  await drain();
  const r = result(openMs, config.connections - conns.length);
  await closeAll();
  emit(r);
} else {
  const loops: Promise<void>[] = [];
  onConnected = (conn) => loops.push(closedLoop(conn));
  resetUsage();
  const rampMs = config.rampS * 1000;
  windowStart = performance.now() + rampMs; // provisional: the ramp may take longer than planned
  windowEnd = windowStart + config.durationS * 1000;
  await connectAll(0, config.connections, rampMs);
  const openMs = performance.now() - openStarted;
  if (performance.now() > windowStart) { // connecting took longer than the ramp: the window starts now
    windowStart = performance.now();
    windowEnd = windowStart + config.durationS * 1000;
  }
  resetUsage();
  const untilStart = windowStart - performance.now();
  if (untilStart > 0) setTimeout(markWindowStart, untilStart);
  else markWindowStart();
  await Promise.all(loops);
  markWindowEnd();
  await drain();
  const r = result(openMs, config.connections - conns.length);
  await closeAll();
  emit(r);
}
process.exit(0);
