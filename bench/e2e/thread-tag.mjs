/**
 * Preloaded into every thread of a bench gateway process (NODE_OPTIONS="--import=…/thread-tag.mjs", set by
 * bench/e2e/run.ts; NODE_OPTIONS reaches worker threads even when they get their own execArgv, as piscina's
 * do). In a worker thread it posts the thread's OS thread id (from /proc/thread-self) on a BroadcastChannel,
 * with the worker's script, which gateway-process.ts collects: Node 20 names every thread "node", so this is how the bench tells the
 * crypto workers' CPU time apart from the main thread's and V8's/libuv's (bench/e2e/cpu.ts). Plain JavaScript:
 * it runs before tsx is registered. The main thread does nothing here.
 */
import { readlinkSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const CHANNEL = 'scanpay-bench-thread-tag'; // THREAD_TAG_CHANNEL in cpu.ts

if (!isMainThread) {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    // a worker's argv[1] is its script: piscina's worker.js for a crypto worker; tsx also starts worker
    // threads of its own (esbuild's lib/main.js, for synchronous transforms), which are not crypto workers
    const channel = new BroadcastChannel(CHANNEL);
    channel.postMessage({ tid, script: process.argv[1] ?? '' });
    channel.unref();
  } catch {
    // no /proc (not Linux): the workers' time is then counted under "other"
  }
}
