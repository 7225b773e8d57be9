/**
 * The embedded store's Map with deadlines (issuer/store/expiring-map.ts: a heap of deadlines) against the
 * anchor it replaced: a Map walked whole at most once a second to forget what expired. A used session is
 * kept 24 hours, so the map holds a day of payments; a read that falls due for a sweep is what the next frame
 * waits on. Two tasks per map size, both maps filled with the same entries:
 *   sweep   a read one second after the last (each anchor read walks every entry; nothing has expired)
 *   churn   one payment's worth of work with time moving on: a set (a new session, kept a day) and two reads,
 *           and as many entries expiring as are added
 *   npx tsx bench/expiring-map.bench.ts [--smoke]      → bench/results/expiring-map.json and its RESULTS.md section
 */
import { writeFileSync } from 'node:fs';
import { Bench } from 'tinybench';
import { ExpiringMap } from '../issuer/store/expiring-map.ts';
import { isSmoke } from './lib/mode.ts';
import { machine } from './lib/provenance.ts';
import { writeResultsSection } from './results-sections.ts';

const SMOKE = isSmoke();
const SIZES = SMOKE ? [10_000] : [10_000, 100_000, 1_000_000];
const DAY_MS = 86_400_000;
const FAR = 1e15; // ms: later than any clock below reaches

interface Deadlined { keepUntil: number }
interface TimedMap { get(key: string, now: number): Deadlined | undefined; set(key: string, value: Deadlined): void }

/** The anchor: what MemoryStore did before, checked on access and swept whole at most once a second. */
class WalkedMap implements TimedMap {
  readonly #entries = new Map<string, Deadlined>();
  #nextSweep = 0;
  get(key: string, now: number): Deadlined | undefined {
    if (now >= this.#nextSweep) {
      this.#nextSweep = now + 1_000;
      for (const [k, entry] of this.#entries) if (entry.keepUntil <= now) this.#entries.delete(k);
    }
    const entry = this.#entries.get(key);
    if (entry && entry.keepUntil <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }
  set(key: string, value: Deadlined): void {
    this.#entries.set(key, value);
  }
}

const kinds: [string, () => TimedMap][] = [['heap of deadlines (ours)', () => new ExpiringMap<Deadlined>()], ['walked once a second (anchor)', () => new WalkedMap()]];
const rows: { size: number; task: string; map: string; usPerOp: number; rmePercent: number }[] = [];

for (const size of SIZES) {
  const bench = new Bench({ time: SMOKE ? 50 : 1_000, warmup: !SMOKE, throws: true });
  for (const [name, make] of kinds) {
    // the day so far: `size` sessions, their deadlines out of reach of the clock below (nothing expires)
    const map = make();
    const step = DAY_MS / size;
    for (let i = 0; i < size; i++) map.set(`s${i}`, { keepUntil: FAR + i * step });
    let sweepNow = 0;
    bench.add(`sweep ${name}`, () => {
      sweepNow += 1_000; // a second on: past the anchor's once-a-second gate at every call
      map.get('s1', sweepNow);
    });
    const churn = make();
    for (let i = 0; i < size; i++) churn.set(`s${i}`, { keepUntil: DAY_MS + i * step });
    let now = DAY_MS;
    let next = size;
    bench.add(`churn ${name}`, () => {
      now += step; // one payment's worth of time: one old session expires as a new one is opened
      churn.set(`s${next}`, { keepUntil: now + DAY_MS });
      churn.get(`s${next}`, now);
      churn.get(`s${next - 1}`, now);
      next++;
    });
  }
  await bench.run();
  for (const t of bench.tasks) {
    if (t.result.state !== 'completed') throw new Error(`${t.name}: tinybench state ${t.result.state}`);
    const [task, ...rest] = t.name.split(' ');
    rows.push({ size, task: task!, map: rest.join(' '), usPerOp: t.result.latency.mean * 1e3, rmePercent: t.result.latency.rme });
  }
}

const f = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: x < 10 ? 2 : 0 });
console.log(`ExpiringMap (${SMOKE ? 'smoke: numbers not meaningful' : 'full'}), µs per operation:`);
for (const r of rows) console.log(`${String(r.size).padStart(9)} ${r.task.padEnd(6)} ${r.map.padEnd(32)} ${f(r.usPerOp).padStart(10)} µs ±${r.rmePercent.toFixed(1)}%`);
if (!SMOKE) {
  const date = new Date().toISOString();
  writeFileSync(new URL('./results/expiring-map.json', import.meta.url), `${JSON.stringify({ benchmark: 'expiring-map', date, machine: machine(), rows }, null, 2)}\n`);
  const cell = (size: number, task: string, map: string) => rows.find((r) => r.size === size && r.task === task && r.map === map)!.usPerOp;
  const [ours, anchor] = kinds.map(([name]) => name) as [string, string];
  writeResultsSection('expiring-map', 'bench/expiring-map.bench.ts', [
    `## The embedded store's expiring maps — ${date.slice(0, 10)}`, '',
    '`npx tsx bench/expiring-map.bench.ts` (tinybench, one run): issuer/store/expiring-map.ts, which finds what expired through a heap of deadlines, against a Map walked whole '
      + 'at most once a second (what MemoryStore did before). A used session is kept 24 hours, so the map holds a day of payments. *Sweep*: a read a second after the last, nothing expired '
      + '(the anchor walks every entry). *Churn*: a new session set and two reads while one old session expires. µs per operation, mean; ratio = anchor ÷ ours.', '',
    '| sessions held | sweep, ours | sweep, anchor | ratio | churn, ours | churn, anchor | ratio |', '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...SIZES.map((n) => `| ${n.toLocaleString('en-US')} | ${f(cell(n, 'sweep', ours))} | ${f(cell(n, 'sweep', anchor))} | ${f(cell(n, 'sweep', anchor) / cell(n, 'sweep', ours))} | `
      + `${f(cell(n, 'churn', ours))} | ${f(cell(n, 'churn', anchor))} | ${f(cell(n, 'churn', anchor) / cell(n, 'churn', ours))} |`),
  ].join('\n'));
  console.log('wrote bench/results/expiring-map.json and its section of bench/RESULTS.md');
}
