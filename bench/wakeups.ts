/**
 * What one wakeup costs a thread on this machine, with no work to do: the floor under bench:e2e's light-load
 * figures (issue 10), where a payment wakes the gateway's main thread 4–8 times and the pauses between payments
 * let the caches go cold. Measured from /proc/thread-self/schedstat (ns of CPU, times scheduled) over many
 * wakeups at two pacings: 8 per second (a 125 ms gap before each, like the light load's pauses) and 1,000 per
 * second (back to back). The sources are the ones a payment wakes the gateway with:
 *   socket      a byte from another process over TCP (a scanner frame, a Redis reply)
 *   worker      a message from a worker thread (a crypto batch's result)
 *   timer       a timer (the event-loop-delay sampler, timeouts)
 * and, for a C event loop on the same machine, the Redis server's main thread per PING (a private redis-server).
 * Rounds alternate the pacings; each figure is the median over the rounds.
 *   npx tsx bench/wakeups.ts [--smoke]     → bench/results/wakeups.json and its RESULTS.md section
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { isSmoke } from './lib/mode.ts';
import { machine } from './lib/provenance.ts';
import { median } from './lib/stats.ts';
import { benchRedis } from './e2e/redis.ts';
import { writeResultsSection } from './results-sections.ts';

const smoke = isSmoke();
const ROUNDS = smoke ? 1 : 3;
const PACINGS = [{ perS: 8, count: smoke ? 8 : 40 }, { perS: 1_000, count: smoke ? 200 : 2_000 }] as const;

interface Sched { runNs: number; runs: number }
const schedOf = (path: string): Sched => {
  const [runNs, , runs] = readFileSync(path, 'utf8').trim().split(/\s+/).map(Number);
  return { runNs: runNs!, runs: runs! };
};
const ownThread = () => schedOf('/proc/thread-self/schedstat');

/** `count` wakeups `periodMs` apart → the woken thread's CPU µs and times scheduled, per wakeup. */
type Probe = (count: number, periodMs: number) => Promise<{ usPerWake: number; runsPerWake: number }>;

/** Starts measuring after the first wakeup (so setting up is not counted), stops after `count` more. */
function counter(count: number, read: () => Sched, done: (r: { usPerWake: number; runsPerWake: number }) => void): () => void {
  let seen = -1;
  let start: Sched | undefined;
  return () => {
    seen++;
    if (seen === 0) start = read();
    else if (seen === count) {
      const end = read();
      done({ usPerWake: (end.runNs - start!.runNs) / 1000 / count, runsPerWake: (end.runs - start!.runs) / count });
    }
  };
}

const timer: Probe = (count, periodMs) => new Promise((resolve) => {
  let t: NodeJS.Timeout | undefined;
  const wake = counter(count, ownThread, (r) => { clearInterval(t); resolve(r); });
  t = setInterval(wake, periodMs);
});

const worker: Probe = (count, periodMs) => new Promise((resolve, reject) => {
  const w = new Worker(`const { parentPort } = require('node:worker_threads');
    const t = setInterval(() => parentPort.postMessage(0), ${periodMs});
    parentPort.once('message', () => { clearInterval(t); parentPort.close(); });`, { eval: true });
  w.on('error', reject);
  const wake = counter(count, ownThread, (r) => { w.postMessage('stop'); void w.terminate().then(() => resolve(r)); });
  w.on('message', wake);
});

/** Another process writes one byte every period over TCP. */
const socket: Probe = (count, periodMs) => new Promise((resolve, reject) => {
  const server = createServer((conn) => {
    const wake = counter(count, ownThread, (r) => { conn.destroy(); peer.kill(); server.close(); resolve(r); });
    conn.on('data', wake);
    conn.on('error', () => {});
  });
  let peer: ReturnType<typeof spawn>;
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    peer = spawn(process.execPath, ['-e', `const s = require('node:net').connect(${port}, '127.0.0.1', () => setInterval(() => s.write('x'), ${periodMs})); s.on('error', () => process.exit(0));`], { stdio: 'ignore' });
    peer.on('error', reject);
  });
});

/**
 * The Redis server's main thread, woken by one PING every period. The server also wakes itself (serverCron,
 * `hz` times a second): what it spends idle over as long a time is taken off.
 */
function redisProbe(url: string, pid: number): Probe {
  const read = () => schedOf(`/proc/${pid}/task/${pid}/schedstat`);
  const idleNsPerMs = async (ms: number) => {
    const a = read();
    const t0 = performance.now();
    await sleep(ms);
    return (read().runNs - a.runNs) / (performance.now() - t0);
  };
  return async (count, periodMs) => {
    const client = new Redis(url, { maxRetriesPerRequest: 1 });
    try {
      await client.ping();
      const idle = await idleNsPerMs(count * periodMs);
      let t0 = 0;
      const busy = await new Promise<{ usPerWake: number; runsPerWake: number; ms: number }>((resolve) => {
        let t: NodeJS.Timeout | undefined;
        const wake = counter(count, read, (r) => { clearInterval(t); resolve({ ...r, ms: performance.now() - t0 }); });
        t = setInterval(() => void client.ping().then(() => { if (t0 === 0) t0 = performance.now(); wake(); }), periodMs);
      });
      return { usPerWake: busy.usPerWake - (idle * busy.ms) / 1000 / count, runsPerWake: busy.runsPerWake };
    } finally {
      client.disconnect();
    }
  };
}

/**
 * A thread hop, back to back: the main thread and a worker pass one message to and fro, in a child process run
 * on one vCPU (taskset -c 0) or free to use both. Wall µs per round trip and the main thread's CPU per round trip.
 */
const PING_PONG = `const { Worker } = require('node:worker_threads'); const { readFileSync } = require('node:fs');
  const sched = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  const w = new Worker("require('node:worker_threads').parentPort.on('message', function (m) { this.postMessage(m); })", { eval: true });
  const n = Number(process.argv[1]); let i = 0, t0 = 0, c0 = 0;
  w.on('message', () => {
    if (++i === 100) { t0 = performance.now(); c0 = sched(); }
    if (i === 100 + n) { console.log(JSON.stringify({ wallUs: (performance.now() - t0) * 1000 / n, mainUs: (sched() - c0) / 1000 / n })); process.exit(0); }
    w.postMessage(0);
  });
  w.postMessage(0);`;
function pingPong(oneCpu: boolean, n: number): { wallUs: number; mainUs: number } {
  const args = ['-e', PING_PONG, String(n)];
  const r = oneCpu ? spawnSync('taskset', ['-c', '0', process.execPath, ...args], { encoding: 'utf8' }) : spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ping-pong${oneCpu ? ' (taskset -c 0)' : ''} failed: ${r.stderr || r.error}`);
  return JSON.parse(r.stdout) as { wallUs: number; mainUs: number };
}

const redis = await benchRedis({ ownServer: true }); // its main thread's CPU is read, so nobody else's clients
if (redis.pid === undefined) throw new Error('bench/wakeups.ts: the private redis-server did not report its pid');
const probes: [string, string, Probe][] = [
  ['socket', 'Node main thread, a byte over TCP from another process', socket],
  ['worker', 'Node main thread, a message from a worker thread', worker],
  ['timer', 'Node main thread, a timer', timer],
  ['redis', 'redis-server main thread (C), one PING (its own timer\'s idle cost taken off)', redisProbe(redis.url, redis.pid)],
];
const samples = new Map<string, { usPerWake: number[]; runsPerWake: number[] }>();
const hops: Record<'oneCpu' | 'bothCpus', { wallUs: number; mainUs: number }[]> = { oneCpu: [], bothCpus: [] };
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const oneCpu of round % 2 === 0 ? [true, false] : [false, true]) {
      const h = pingPong(oneCpu, smoke ? 2_000 : 20_000);
      hops[oneCpu ? 'oneCpu' : 'bothCpus'].push(h);
      process.stdout.write(`round ${round + 1}: worker ping-pong ${oneCpu ? 'on one vCPU' : 'on both vCPUs'}: ${h.wallUs.toFixed(1)} µs per round trip, main thread ${h.mainUs.toFixed(1)} µs of CPU\n`);
    }
    for (const pacing of round % 2 === 0 ? PACINGS : [...PACINGS].reverse()) {
      for (const [name, , probe] of probes) {
        const r = await probe(pacing.count, 1000 / pacing.perS);
        const key = `${name}@${pacing.perS}`;
        const s = samples.get(key) ?? { usPerWake: [], runsPerWake: [] };
        s.usPerWake.push(r.usPerWake);
        s.runsPerWake.push(r.runsPerWake);
        samples.set(key, s);
        process.stdout.write(`round ${round + 1}: ${name.padEnd(7)} ${String(pacing.perS).padStart(5)}/s  ${r.usPerWake.toFixed(1).padStart(7)} µs per wakeup (${r.runsPerWake.toFixed(2)} runs)\n`);
      }
    }
  }
} finally {
  await redis.stop();
}

const rows = probes.map(([name, what]) => {
  const at = (perS: number) => median(samples.get(`${name}@${perS}`)!.usPerWake);
  return { name, what, coldUs: at(8), warmUs: at(1_000) };
});
const hop = (k: keyof typeof hops) => ({ wallUs: median(hops[k].map((h) => h.wallUs)), mainUs: median(hops[k].map((h) => h.mainUs)) });
const hopRows = { oneCpu: hop('oneCpu'), bothCpus: hop('bothCpus') };
const date = new Date().toISOString();
const results = { benchmark: 'wakeups', date, smoke, machine: machine(), rounds: ROUNDS, pacings: PACINGS, rows, samples: Object.fromEntries(samples), hops: hopRows, hopSamples: hops };
const f = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 0 });
console.table(rows.map((r) => ({ source: r.what, 'µs at 8/s': f(r.coldUs), 'µs at 1,000/s': f(r.warmUs) })));
if (!smoke) {
  writeFileSync(new URL('./results/wakeups.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  writeResultsSection('wakeups', 'bench/wakeups.ts', [
    `## What a wakeup costs a thread here — ${date.slice(0, 10)}`, '',
    '`npx tsx bench/wakeups.ts`: CPU time of one thread per wakeup with nothing to do, from /proc/thread-self/schedstat, over 40 wakeups 125 ms apart '
      + `(8/s, the gap the light load's pauses leave) and 2,000 back to back (1,000/s); median of ${ROUNDS} rounds that alternate the pacings. `
      + 'The floor under the light-load rows above: a payment wakes the gateway\'s main thread 4 times on the embedded store (scan frame, its crypto result, PIN frame, its result) '
      + 'and 3 more over Redis (one reply per store step).', '',
    '| woken by | µs per wakeup after a 125 ms gap | µs per wakeup back to back | gap ÷ back to back |', '| --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.what} | ${f(r.coldUs)} | ${f(r.warmUs)} | ${(r.coldUs / r.warmUs).toFixed(1)} |`),
    '', `A thread hop, back to back: the main thread and a worker pass one message to and fro (${f(20_000)} round trips, median of ${ROUNDS} rounds), the process on one vCPU (\`taskset -c 0\`) or free to use both:`, '',
    '| process on | µs per round trip (wall) | main thread\'s CPU per round trip, µs |', '| --- | ---: | ---: |',
    `| one vCPU | ${hopRows.oneCpu.wallUs.toFixed(1)} | ${hopRows.oneCpu.mainUs.toFixed(1)} |`,
    `| both vCPUs | ${hopRows.bothCpus.wallUs.toFixed(1)} | ${hopRows.bothCpus.mainUs.toFixed(1)} |`,
  ].join('\n'));
  console.log(`wrote ${fileURLToPath(new URL('./results/wakeups.json', import.meta.url))} and its section of bench/RESULTS.md`);
}
process.exit(0);
