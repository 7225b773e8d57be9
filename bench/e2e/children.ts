/**
 * The orchestrator's side of the end-to-end benchmark's child processes (test/support/child-process.ts spawns
 * them): every child is killed when the orchestrator exits, is interrupted or crashes, temp dirs go with it,
 * the whole run has a deadline; and what /proc and ulimit say about a child.
 * @example
 *   installCleanup();
 *   deadline(10 * 60_000);
 *   const rss = rssOf(child.pid);
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { liveChildren } from '../../test/support/child-process.ts';

/** Resident set size of a process in bytes, from /proc (null if it is gone). */
export function rssOf(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** The soft and hard open-file limits this process runs under (children inherit them). */
export function fileLimits(): { soft: number; hard: number } {
  const read = (flag: string) => {
    const r = spawnSync('/bin/sh', ['-c', `ulimit ${flag}n`], { encoding: 'utf8' });
    const text = (r.stdout ?? '').trim();
    return text === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number.parseInt(text, 10) || 1024;
  };
  return { soft: read('-S'), hard: read('-H') };
}

let installed = false;
const tempDirs = new Set<string>();

/** A temp dir to delete when this process exits, however it exits (short of SIGKILL). */
export function removeOnExit(dir: string): void {
  tempDirs.add(dir);
}

/**
 * Kills every live child when this process exits, is interrupted (SIGINT/SIGTERM/SIGHUP) or crashes
 * (uncaught exception, unhandled rejection); `extra` runs first on the asynchronous paths (e.g. Redis key cleanup).
 */
export function installCleanup(extra?: () => Promise<void>): void {
  if (installed) return;
  installed = true;
  const killAll = (signal: NodeJS.Signals) => {
    for (const child of liveChildren()) if (child.running) child.proc.kill(signal);
  };
  process.on('exit', () => {
    killAll('SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
  // a reader that went away (`… | head`) must not turn the cleanup itself into a crash
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  let stopping = false;
  const stopAndExit = async (code: number, why: string) => {
    if (stopping) return;
    stopping = true;
    try {
      console.error(`\nbench: ${why}; stopping ${liveChildren().size} child process(es)`);
    } catch {
      // stderr is gone
    }
    const force = setTimeout(() => {
      killAll('SIGKILL');
      process.exit(code);
    }, 10_000);
    force.unref();
    try {
      await extra?.();
    } catch (e) {
      try {
        console.error(`bench: cleanup failed: ${(e as Error).message}`);
      } catch {
        // stderr is gone
      }
    }
    killAll('SIGTERM');
    await Promise.race([Promise.all([...liveChildren()].map((c) => c.exited)), new Promise((r) => setTimeout(r, 5_000).unref())]);
    killAll('SIGKILL');
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stopAndExit(130, signal));
  process.on('uncaughtException', (e) => {
    console.error(e);
    void stopAndExit(1, 'uncaught exception');
  });
  process.on('unhandledRejection', (e) => {
    console.error(e);
    void stopAndExit(1, 'unhandled rejection');
  });
  exitOnDeadline = (ms: number) => {
    setTimeout(() => void stopAndExit(1, `deadline of ${Math.round(ms / 1000)} s passed`), ms).unref();
  };
}

let exitOnDeadline: (ms: number) => void = () => {};

/** Stops everything if the whole run takes longer than `ms` (installCleanup first). */
export function deadline(ms: number): void {
  exitOnDeadline(ms);
}
