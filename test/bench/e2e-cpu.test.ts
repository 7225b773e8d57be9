/**
 * The arithmetic behind bench:e2e's CPU and Redis figures per payment (bench/e2e/cpu.ts, profile-summary.ts):
 * /proc parsing, the main / workers / other split, Redis counts per payment, the profile's top costs.
 * No timing here: the figures themselves are measured by the benchmark, never asserted in tests.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { CLK_TCK, parseCommandstats, perPayment, readThreads, redisPerPayment, splitCpu, ticksOfStat, type ProcessTimes } from '../../bench/e2e/cpu.ts';
import { summarizeAllocations, summarizeProfile } from '../../bench/e2e/profile-summary.ts';

const tick = 1000 / CLK_TCK; // ms per tick

describe('ticksOfStat', () => {
  it('adds utime and stime, even when the comm holds spaces and parentheses', () => {
    const rest = 'S 1 2 3 4 5 6 7 8 9 10 250 40 0 0 20 0 1 0';
    expect(ticksOfStat(`123 (node) ${rest}`)).toBe(290);
    expect(ticksOfStat(`123 (we (ird) name) ${rest}`)).toBe(290);
  });
});

describe('splitCpu', () => {
  const reading = (at: number, processTicks: number, threads: [number, number, number | null, number?][]): ProcessTimes => ({
    pid: 100, at, processTicks, threads: threads.map(([tid, ticks, runNs, runs]) => ({ tid, comm: 'node', ticks, runNs, runs: runNs === null ? null : runs ?? 0 })),
  });

  it('tells the main thread, the workers and the rest apart', () => {
    const a = reading(0, 100, [[100, 50, 500e6, 40], [101, 10, 100e6, 7], [102, 5, 50e6], [103, 1, 10e6]]);
    const b = reading(1000, 190, [[100, 100, 1000e6, 90], [101, 30, 300e6, 70], [102, 15, 150e6], [103, 2, 20e6], [104, 3, 30e6]]);
    const split = splitCpu(a, b, [101, 102]);
    expect(split.mainMs).toBeCloseTo(50 * tick);
    expect(split.workersMs).toBeCloseTo(30 * tick);
    expect(split.totalMs).toBeCloseTo(90 * tick);
    expect(split.otherMs).toBeCloseTo(10 * tick); // 90 − 50 − 30: includes the new thread 104 and any that ended
    expect(split.sched).toEqual({ mainMs: 500, workersMs: 300, otherMs: 40, mainRuns: 50 }); // the main thread's wakeups only
    expect(split.workerThreads).toBe(2);
    const per = perPayment(split, 10)!;
    expect(per.mainUs).toBeCloseTo((50 * tick * 1000) / 10);
    expect(per.mainPercent).toBeCloseTo(((50 * tick) / 1000) * 100);
    expect(per.sched?.mainWakeups).toBe(5);
    expect(perPayment(split, 0)).toBeNull();
  });

  it('has no schedstat figures when the kernel gives none', () => {
    const a = reading(0, 10, [[100, 5, null]]);
    const b = reading(10, 20, [[100, 9, null]]);
    expect(splitCpu(a, b, []).sched).toBeNull();
  });

  it('reads this process, a worker thread included', async () => {
    const worker = new Worker('setTimeout(() => {}, 2000)', { eval: true });
    await new Promise((resolve) => worker.once('online', resolve));
    try {
      const r = readThreads(process.pid)!;
      const main = r.threads.find((t) => t.tid === process.pid)!;
      expect(main).toBeDefined();
      if (main.runNs !== null) expect(main.runs).toBeGreaterThan(0); // it has run, so it was put on a CPU
      expect(r.threads.length).toBeGreaterThan(1);
      expect(readThreads(2 ** 30)).toBeNull();
    } finally {
      await worker.terminate();
    }
  });
});

describe('Redis counts per payment', () => {
  it('parses INFO commandstats', () => {
    const info = '# Commandstats\r\ncmdstat_evalsha:calls=10,usec=5,usec_per_call=0.5,rejected_calls=0,failed_calls=0\r\ncmdstat_client|setname:calls=1,usec=1\r\n';
    expect(parseCommandstats(info)).toEqual({ evalsha: 10, 'client|setname': 1 });
  });

  it('divides the deltas by the payments, leaving out the bench\'s own INFO', () => {
    const r = redisPerPayment(
      { before: { evalsha: 10, get: 4, info: 3 }, after: { evalsha: 60, get: 24, info: 5, hset: 30 } },
      { before: { commands: { evalsha: 10 }, writes: 8 }, after: { commands: { evalsha: 60, get: 0 }, writes: 38 } },
      10,
    )!;
    expect(r.serverCalls).toBe(10); // (50 + 20 + 30) / 10
    expect(r.scriptCalls).toBe(5);
    expect(r.serverByCommand).toEqual({ evalsha: 5, get: 2, hset: 3 });
    expect(r.sent).toBe(5);
    expect(r.sentByCommand).toEqual({ evalsha: 5 });
    expect(r.writes).toBe(3);
    expect(redisPerPayment(null, null, 10)).toBeNull();
  });
});

describe('summarizeProfile', () => {
  it('groups self time, leaves idle and the profiler out, and names a native function by its caller', () => {
    const node = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 9 }, children });
    const profile = {
      nodes: [
        node(1, '(root)', '', [2, 3, 6, 7]),
        node(2, 'send', 'file:///x/node_modules/ioredis/built/Redis.js', [4]),
        node(3, '(idle)', ''),
        node(4, 'writeUtf8String', ''),
        node(5, 'dispatch', ''),
        node(6, 'post', 'node:inspector', [5]),
        node(7, '(garbage collector)', ''),
      ],
      samples: [2, 4, 4, 3, 3, 5, 7],
      timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000],
    };
    const s = summarizeProfile(profile);
    expect(s.wallMs).toBe(7);
    expect(s.idleMs).toBe(2);
    expect(s.profilerMs).toBe(1);
    expect(s.busyMs).toBe(4);
    expect(s.byFunction[0]).toMatchObject({ name: 'native writeUtf8String ← send ioredis/built/Redis.js:10', selfMs: 2, share: 0.5 });
    expect(s.byFile.map((c) => c.name)).toEqual(['native writeUtf8String ← ioredis', 'ioredis', '(garbage collector)']);
  });
});

describe('summarizeAllocations', () => {
  it('sums each frame\'s own bytes by function and by package or folder, the biggest first', () => {
    interface Frame { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Frame[] }
    const frame = (functionName: string, url: string, selfSize: number, children: Frame[] = []): Frame =>
      ({ callFrame: { functionName, url, lineNumber: 15 }, selfSize, children });
    const repo = new URL('../../', import.meta.url).href;
    const profile = {
      head: frame('(root)', '', 0, [
        frame('toWritable', 'file:///x/node_modules/ioredis/built/Script.js', 3_000, [frame('toWritable', 'file:///x/node_modules/ioredis/built/Script.js', 1_000)]),
        frame('openSession', `${repo}issuer/store/redis-store.ts`, 2_500, [frame('', `${repo}issuer/store/redis-codec.ts`, 700)]),
        frame('(V8 API)', '', 100),
      ]),
    };
    const a = summarizeAllocations(profile);
    expect(a.bytes).toBe(7_300);
    expect(a.byFunction).toEqual([
      { name: 'toWritable  ioredis/built/Script.js:16', bytes: 4_000 },
      { name: 'openSession  issuer/store/redis-store.ts:16', bytes: 2_500 },
      { name: '(anonymous)  issuer/store/redis-codec.ts:16', bytes: 700 },
      { name: '(V8 API)', bytes: 100 },
    ]);
    expect(a.byFile).toEqual([{ name: 'ioredis', bytes: 4_000 }, { name: 'issuer/store', bytes: 3_200 }, { name: '(V8 API)', bytes: 100 }]);
  });
});
