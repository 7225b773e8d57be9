/**
 * CPU time of one process, thread by thread, and Redis command counts, for "cost per payment" figures: read
 * before and after a window of completed payments, the differences divided by the payments; and the figures
 * bench/e2e/run.ts keeps per phase (e2e.json `cpu.figures`, the CPU table of RESULTS.md).
 *
 * Threads come from /proc/<pid>/task/<tid>/: `stat` (utime + stime in clock ticks, `getconf CLK_TCK`) and
 * `schedstat` (time on CPU in ns, the first field; finer grained, a cross-check).
 * The main thread is tid == pid. Node 20 names every thread "node" (comm), so the crypto workers are told
 * apart by their own report: thread-tag.mjs, preloaded into every thread through NODE_OPTIONS, posts each
 * worker thread's tid and script to the gateway's main thread (gateway-process.ts answers `counters` with the
 * piscina ones; tsx's own esbuild worker threads count as "other").
 * "Other" is the rest of the process — V8's platform threads (GC, compiler), libuv's pool, threads already
 * gone — taken as the process's own total (/proc/<pid>/stat, which keeps exited threads' time) minus the two.
 * @example
 *   const a = readThreads(pid); ... const b = readThreads(pid);
 *   const split = splitCpu(a, b, workerTids); // { mainMs, workersMs, otherMs, totalMs, … }
 */
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Cost } from './profile-summary.ts';

/** The BroadcastChannel thread-tag.mjs posts worker thread ids on (the same literal is in that file). */
export const THREAD_TAG_CHANNEL = 'scanpay-bench-thread-tag';

/** NODE_OPTIONS that preload thread-tag.mjs into every thread of a Node process (workers included). */
export function threadTagNodeOptions(): string {
  const file = fileURLToPath(new URL('./thread-tag.mjs', import.meta.url));
  return [process.env.NODE_OPTIONS, `--import=${pathToFileURL(file).href}`].filter(Boolean).join(' ');
}

export const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number.parseInt(r.stdout ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

export interface ThreadTimes {
  tid: number;
  comm: string;
  ticks: number; // utime + stime
  runNs: number | null; // schedstat: time on CPU (null when the kernel has no schedstat)
  runs: number | null; // schedstat: times the thread was put on a CPU (each sleep ends in one: its wakeups)
}

export interface ProcessTimes {
  pid: number;
  at: number; // performance.now() of the reading
  processTicks: number; // /proc/<pid>/stat utime + stime: every thread, exited ones included
  threads: ThreadTimes[];
}

/** utime + stime (fields 14 and 15) of a /proc …/stat line; the comm in parentheses may hold spaces. */
export function ticksOfStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
  return Number(fields[11]) + Number(fields[12]);
}

/** utime + stime of a whole process in ms, from /proc (null if it is gone). */
export function cpuMsOf(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    return (ticksOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

/** One reading of a process's threads (null if the process is gone). */
export function readThreads(pid: number | undefined): ProcessTimes | null {
  if (!pid) return null;
  try {
    const at = performance.now();
    const processTicks = ticksOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const threads: ThreadTimes[] = [];
    for (const name of readdirSync(`/proc/${pid}/task`)) {
      const dir = `/proc/${pid}/task/${name}`;
      try {
        const ticks = ticksOfStat(readFileSync(`${dir}/stat`, 'utf8'));
        const comm = readFileSync(`${dir}/comm`, 'utf8').trim();
        let runNs: number | null = null;
        let runs: number | null = null;
        try {
          const sched = readFileSync(`${dir}/schedstat`, 'utf8').split(' ');
          runNs = Number(sched[0]);
          runs = Number(sched[2]);
        } catch {
          // no schedstat on this kernel
        }
        threads.push({ tid: Number(name), comm, ticks, runNs, runs });
      } catch {
        // the thread ended between readdir and read: its time is in processTicks
      }
    }
    return { pid, at, processTicks, threads };
  } catch {
    return null;
  }
}

export interface CpuSplit {
  wallMs: number;
  /** From stat ticks (utime + stime), ms over the window. */
  mainMs: number;
  workersMs: number;
  otherMs: number; // process total − main − workers
  totalMs: number;
  /** From schedstat (ns resolution), ms; null without schedstat. Threads that ended in the window are missing here. */
  sched: { mainMs: number; workersMs: number; otherMs: number; mainRuns: number } | null;
  workerThreads: number; // worker tids seen in both readings
  threads: number; // threads alive at the end
}

/** The CPU of each part of the process between two readings; `workerTids`: the crypto workers' tids. */
export function splitCpu(a: ProcessTimes, b: ProcessTimes, workerTids: Iterable<number>): CpuSplit {
  const workers = new Set(workerTids);
  const before = new Map(a.threads.map((t) => [t.tid, t]));
  const ms = (ticks: number) => (ticks * 1000) / CLK_TCK;
  let main = 0;
  let work = 0;
  let schedMain = 0;
  let schedWork = 0;
  let schedOther = 0;
  let mainRuns = 0;
  let sched = true;
  let seenWorkers = 0;
  for (const t of b.threads) {
    const old = before.get(t.tid);
    const ticks = t.ticks - (old?.ticks ?? 0); // a thread born in the window counts from zero
    const ns = t.runNs === null || (old && old.runNs === null) ? null : t.runNs - (old?.runNs ?? 0);
    if (ns === null) sched = false;
    if (t.tid === b.pid) {
      main += ticks;
      schedMain += ns ?? 0;
      mainRuns += (t.runs ?? 0) - (old?.runs ?? 0);
    } else if (workers.has(t.tid)) {
      work += ticks;
      schedWork += ns ?? 0;
      if (old) seenWorkers++;
    } else {
      schedOther += ns ?? 0;
    }
  }
  const total = b.processTicks - a.processTicks;
  return {
    wallMs: b.at - a.at,
    mainMs: ms(main),
    workersMs: ms(work),
    otherMs: ms(Math.max(0, total - main - work)),
    totalMs: ms(total),
    sched: sched ? { mainMs: schedMain / 1e6, workersMs: schedWork / 1e6, otherMs: schedOther / 1e6, mainRuns } : null,
    workerThreads: seenWorkers,
    threads: b.threads.length,
  };
}

export interface CpuPerPayment {
  payments: number;
  /** µs of CPU per payment, stat ticks. */
  mainUs: number;
  workersUs: number;
  otherUs: number;
  totalUs: number;
  /**
   * The same from schedstat (ns resolution), or null; and how many times per payment the main thread was
   * woken (each costs this VM tens of µs before any JavaScript runs: what a payment costs at light load).
   */
  sched: { mainUs: number; workersUs: number; otherUs: number; mainWakeups: number } | null;
  /** Share of one core over the window, %. */
  mainPercent: number;
  totalPercent: number;
  split: CpuSplit;
}

export function perPayment(split: CpuSplit, payments: number): CpuPerPayment | null {
  if (payments <= 0) return null;
  const us = (msValue: number) => (msValue * 1000) / payments;
  const pct = (msValue: number) => (split.wallMs > 0 ? (msValue / split.wallMs) * 100 : 0);
  return {
    payments,
    mainUs: us(split.mainMs),
    workersUs: us(split.workersMs),
    otherUs: us(split.otherMs),
    totalUs: us(split.totalMs),
    sched: split.sched
      ? { mainUs: us(split.sched.mainMs), workersUs: us(split.sched.workersMs), otherUs: us(split.sched.otherMs), mainWakeups: split.sched.mainRuns / payments }
      : null,
    mainPercent: pct(split.mainMs),
    totalPercent: pct(split.totalMs),
    split,
  };
}

// ---- Redis ---------------------------------------------------------------------------------------------------

/** `INFO commandstats` → calls per command ("evalsha", "client|setname", …). */
export function parseCommandstats(info: string): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[m[1]!] = Number(m[2]);
  return calls;
}

/** Commands a client runs against the server itself, not the gateway's work (the bench's own INFO, …). */
const NOT_THE_GATEWAYS = new Set(['info', 'config|resetstat', 'ping', 'client|setname', 'client|setinfo', 'hello', 'select', 'quit']);
export const SCRIPT_COMMANDS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);

export interface RedisPerPayment {
  payments: number;
  /** Server side, INFO commandstats: every command the server ran, the ones run inside scripts too. */
  serverCalls: number;
  serverByCommand: Record<string, number>; // per payment
  /** Of those, script calls (eval, evalsha, fcall…): each is one command the gateway sent. */
  scriptCalls: number;
  /** Client side (the gateway's ioredis, counted in gateway-process.ts): commands sent, i.e. requests a payment waits on. */
  sent: number | null;
  sentByCommand: Record<string, number> | null; // per payment
  /** Socket writes by the gateway's Redis client (auto-pipelining puts several commands in one). */
  writes: number | null;
}

export function redisPerPayment(
  server: { before: Record<string, number>; after: Record<string, number> } | null,
  client: { before: ClientCounts; after: ClientCounts } | null,
  payments: number,
): RedisPerPayment | null {
  if (payments <= 0 || (!server && !client)) return null;
  const serverByCommand: Record<string, number> = {};
  let serverCalls = 0;
  let scriptCalls = 0;
  if (server) {
    for (const [name, n] of Object.entries(server.after)) {
      const d = n - (server.before[name] ?? 0);
      if (d <= 0 || NOT_THE_GATEWAYS.has(name)) continue;
      serverByCommand[name] = d / payments;
      serverCalls += d;
      if (SCRIPT_COMMANDS.has(name)) scriptCalls += d;
    }
  }
  let sentByCommand: Record<string, number> | null = null;
  let sent: number | null = null;
  let writes: number | null = null;
  if (client) {
    sentByCommand = {};
    sent = 0;
    for (const [name, n] of Object.entries(client.after.commands)) {
      const d = n - (client.before.commands[name] ?? 0);
      if (d <= 0) continue;
      sentByCommand[name] = d / payments;
      sent += d;
    }
    sent /= payments;
    writes = (client.after.writes - client.before.writes) / payments;
  }
  return { payments, serverCalls: serverCalls / payments, serverByCommand, scriptCalls: scriptCalls / payments, sent, sentByCommand, writes };
}

/** What gateway-process.ts counts on its Redis client. */
export interface ClientCounts {
  commands: Record<string, number>;
  writes: number;
}

// ---- a run's phases --------------------------------------------------------------------------------------------

/** One measured phase: the CPU of the gateway process per payment, its Redis commands per payment, its latency. */
export interface Phase {
  store: 'embedded' | 'redis';
  loop: string; // "light: 2 in flight, 250 ms pauses", "closed loop, 64 conns", "open loop, 1937/s"
  connections: number;
  payments: number; // completed in the window (the divisor)
  paymentsPerS: number;
  windowS: number;
  cpu: CpuPerPayment | null;
  redis: RedisPerPayment | null;
  /** The private Redis server's CPU per payment, µs (absent in older results; null on a shared server). */
  redisServerUs?: number | null;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface Figures {
  lightEmbedded: Phase | null; // pool gateway, embedded store, light load
  lightRedis: Phase | null; // pool gateway over Redis, light load
  /** The same gateways, the same pairs without the pause (for reference, no target: what the pause adds). */
  noPauseEmbedded?: Phase | null;
  noPauseRedis?: Phase | null;
  peak: Phase | null; // pool gateway over Redis, closed loop, its best connection count
  at70: Phase | null; // pool, open loop at 70 % of its peak
  baselinePeak: Phase | null;
  /** The architecture's floor (bench/floor) at its closed-loop peak: the anchor the gateways' CPU per payment is divided by. */
  floorPeak?: Phase | null;
  /** The floor in open loop at the pool's 70% rate: compared with the pool's own 70% run (one arrival rate). */
  floorAtPoolRate?: Phase | null;
  /** The floor in open loop at the pool's peak rate: its Redis CPU per payment at the pool's throughput. */
  floorAtPoolPeakRate?: Phase | null;
  /** The floor in open loop at 70 % of its own peak: its p99 where the pool's is judged. */
  floorAt70?: Phase | null;
  poolPaymentsPerS: number | null;
  baselinePaymentsPerS: number | null;
  echoPaymentsPerS: number | null; // echo round trips/s ÷ 2 (a payment is two round trips)
  poolOverBaseline: number | null;
  poolOverEcho: number | null;
  poolP99At70Ms: number | null;
  profile: { connections: number; paymentsPerS: number; busyShare: number; byFunction: Cost[]; byFile: Cost[] } | null;
}
