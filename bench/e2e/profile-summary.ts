/**
 * Self time of a V8 CPU profile (.cpuprofile, from the inspector's Profiler.stop), grouped by function and
 * by file or package, as shares of the thread's busy time (and, from a sampling heap profile, the bytes each
 * allocated: summarizeAllocations): "(idle)" (the thread waiting for events) is left
 * out of the shares and reported apart, as is the profiler's own inspector session; "(program)" (native code outside JS: uWS, libuv, V8 itself),
 * "(garbage collector)" and native functions called from JS ("native cork ← its caller") stay in, they are
 * costs. Used by bench/e2e/profile.ts and bench/e2e/run.ts.
 * @example
 *   const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')));
 *   for (const line of formatTop(summary, 5)) console.log(line);
 */
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Cost {
  name: string; // "function  file:line" or a file / package
  selfMs: number;
  share: number; // of busy time, 0..1
}

export interface ProfileSummary {
  wallMs: number;
  busyMs: number;
  idleMs: number;
  profilerMs: number; // the inspector session's own work, left out like idle time
  byFunction: Cost[];
  byFile: Cost[];
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A script URL as a short path: inside node_modules the package path, inside this repository the repo path. */
export function shortFile(url: string): string {
  let path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) path = path.slice(nm + '/node_modules/'.length);
  else if (path.startsWith(REPO_ROOT)) path = path.slice(REPO_ROOT.length);
  return path;
}

/** The group of a file: a package (name or @scope/name), a node: builtin, or the repo folder two levels deep. */
function groupOf(file: string, url: string): string {
  if (!url) return file;
  if (file.startsWith('node:')) return 'node: (built-in modules)';
  const parts = file.split('/');
  if (url.includes('/node_modules/')) return parts.slice(0, file.startsWith('@') ? 2 : 1).join('/');
  return parts.slice(0, Math.min(2, parts.length - 1) || 1).join('/');
}

export function summarizeProfile(profile: CpuProfile, limit = 40): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, ProfileNode>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  /**
   * Who called a native function: the nearest caller outside Node's own modules (else the nearest with a script),
   * passing over the bench's own instrumentation (gateway-process.ts counts the Redis client's socket writes).
   */
  const caller = (node: ProfileNode): ProfileNode | null => {
    let builtin: ProfileNode | null = null;
    for (let p = parent.get(node.id); p; p = parent.get(p.id)) {
      if (!p.callFrame.url || p.callFrame.url.includes('/bench/e2e/')) continue;
      if (p.callFrame.url === 'node:inspector') return p;
      if (!p.callFrame.url.startsWith('node:')) return p;
      builtin ??= p;
    }
    return builtin;
  };
  // tsx runs the .ts sources as one-line transforms: a line number there says nothing, so only real ones are shown
  const at = (n: ProfileNode) => `${shortFile(n.callFrame.url)}${n.callFrame.lineNumber > 0 ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  const where = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${at(n)}`;
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  let wall = 0;
  let idle = 0;
  let profiler = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = (profile.timeDeltas[i] ?? 0) / 1000; // µs → ms
    wall += dt;
    if (!node) return;
    const fn = node.callFrame.functionName;
    if (fn === '(idle)') {
      idle += dt;
      return;
    }
    // no URL: V8's pseudo-entries ("(garbage collector)", "(program)") or a native function (uWS's cork, a socket
    // write), the latter named with the script function that called it
    let key: string;
    let group: string;
    if (node.callFrame.url) {
      const file = shortFile(node.callFrame.url);
      key = `${fn || '(anonymous)'}  ${at(node)}`;
      group = groupOf(file, node.callFrame.url);
    } else if (fn.startsWith('(')) {
      key = group = fn;
    } else {
      const from = caller(node);
      if (from?.callFrame.url === 'node:inspector') { // the profiler's own session (starting, stopping): not the gateway's
        profiler += dt;
        return;
      }
      key = `native ${fn || '(anonymous)'}${from ? ` ← ${where(from)}` : ''}`;
      group = `native ${fn || '(anonymous)'}${from ? ` ← ${groupOf(shortFile(from.callFrame.url), from.callFrame.url)}` : ''}`;
    }
    self.set(key, (self.get(key) ?? 0) + dt);
    files.set(group, (files.get(group) ?? 0) + dt);
  });
  const busy = wall - idle - profiler;
  const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, limit)
    .map(([name, selfMs]) => ({ name, selfMs, share: busy > 0 ? selfMs / busy : 0 }));
  return { wallMs: wall, busyMs: busy, idleMs: idle, profilerMs: profiler, byFunction: top(self), byFile: top(files) };
}

/** Lines for a terminal: the top `n` functions and files with their share of busy time. */
export function formatTop(s: ProfileSummary, n = 5): string[] {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  return [
    `main thread busy ${(s.busyMs / 1000).toFixed(1)} s of ${(s.wallMs / 1000).toFixed(1)} s profiled (${pct(s.wallMs > 0 ? s.busyMs / s.wallMs : 0)}); shares below are of busy time`,
    `top ${n} by function (self time):`,
    ...s.byFunction.slice(0, n).map((c, i) => `  ${i + 1}. ${pct(c.share)}  ${c.name}`),
    `top ${n} by file / package (self time):`,
    ...s.byFile.slice(0, n).map((c, i) => `  ${i + 1}. ${pct(c.share)}  ${c.name}`),
  ];
}

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}
/** The inspector's HeapProfiler.getSamplingProfile answer. */
export interface SamplingHeapProfile {
  head: HeapNode;
}

export interface Allocations {
  bytes: number;
  byFunction: { name: string; bytes: number }[];
  byFile: { name: string; bytes: number }[];
}

/**
 * Bytes allocated by function (self: the allocating frame) and by file or package, from a sampling heap profile
 * taken with includeObjectsCollectedByMajorGC and …MinorGC, so that the garbage counts too (each sample stands
 * for about the sampling interval's bytes: a statistical estimate, not a count).
 */
export function summarizeAllocations(profile: SamplingHeapProfile, limit = 40): Allocations {
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  let bytes = 0;
  const visit = (node: HeapNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    if (node.selfSize > 0) {
      const file = url ? shortFile(url) : '';
      const name = `${functionName || '(anonymous)'}${file ? `  ${file}${lineNumber > 0 ? `:${lineNumber + 1}` : ''}` : ''}`;
      const group = url ? groupOf(file, url) : functionName || '(native)';
      self.set(name, (self.get(name) ?? 0) + node.selfSize);
      files.set(group, (files.get(group) ?? 0) + node.selfSize);
      bytes += node.selfSize;
    }
    for (const child of node.children) visit(child);
  };
  visit(profile.head);
  const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([name, b]) => ({ name, bytes: b }));
  return { bytes, byFunction: top(self), byFile: top(files) };
}
