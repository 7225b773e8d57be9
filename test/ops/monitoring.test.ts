/**
 * The monitoring kit (ops/grafana-dashboard.json, ops/prometheus-alerts.yml, docs/operations.md) names only
 * series the gateway really exports: every `scanpay_*` metric they reference is registered by
 * `new GatewayMetrics(...)` (a histogram's _bucket/_sum/_count series map to the histogram), and every label
 * they select on is one of that metric's labels. Also: every gateway metric is documented, the rules are
 * well-formed, and — where promtool is installed — `promtool check rules` and the rule unit tests pass.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GatewayMetrics } from '../../gateway/metrics.ts';
import { onPath } from '../support/redis.ts';
import { parseYamlSubset } from './yaml-subset.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');

interface Registered {
  type: string;
  labels: Set<string>;
}

/** name → type and labels, as a fresh gateway registers them (default process metrics included). */
function registeredMetrics(): Map<string, Registered> {
  const metrics = new GatewayMetrics();
  const out = new Map<string, Registered>();
  for (const m of metrics.registry.getMetricsAsArray() as unknown as { name: string; type: string; labelNames?: string[] }[]) {
    out.set(m.name, { type: String(m.type), labels: new Set(m.labelNames ?? []) });
  }
  return out;
}

/** Labels Prometheus adds at scrape (job, instance) or that a histogram's series carry (le). */
const SCRAPE_LABELS = new Set(['job', 'instance']);

interface Reference {
  series: string;
  labels: string[];
  where: string;
}

/** Every `scanpay_*` series in a PromQL expression, with the label names of its selector. */
function referencesIn(expr: string, where: string): Reference[] {
  const refs: Reference[] = [];
  for (const m of expr.matchAll(/\b(scanpay_[A-Za-z0-9_]+)(\{([^}]*)\})?/g)) {
    const labels = [...(m[3] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]);
    refs.push({ series: m[1], labels, where });
  }
  return refs;
}

/** The registered metric a series belongs to: itself, or the histogram behind a _bucket/_sum/_count. */
function resolve(series: string, registered: Map<string, Registered>): { name: string; metric: Registered; bucket: boolean } | null {
  const direct = registered.get(series);
  if (direct) return { name: series, metric: direct, bucket: false };
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  const histogram = m ? registered.get(m[1]) : undefined;
  return histogram?.type === 'histogram' ? { name: m![1], metric: histogram, bucket: m![2] === 'bucket' } : null;
}

function checkReferences(refs: Reference[], registered: Map<string, Registered>): string[] {
  const problems: string[] = [];
  for (const ref of refs) {
    const found = resolve(ref.series, registered);
    if (!found) {
      problems.push(`${ref.where}: ${ref.series} is not registered by GatewayMetrics`);
      continue;
    }
    for (const label of ref.labels) {
      if (SCRAPE_LABELS.has(label) || found.metric.labels.has(label) || (found.bucket && label === 'le')) continue;
      problems.push(`${ref.where}: ${ref.series} has no label ${label} (it has: ${[...found.metric.labels].join(', ') || 'none'})`);
    }
  }
  return problems;
}

/** Every string in a JSON document, with a path saying where it sits. */
function* stringsIn(node: unknown, path = '$'): Generator<[string, string]> {
  if (typeof node === 'string') yield [path, node];
  else if (Array.isArray(node)) for (const [i, v] of node.entries()) yield* stringsIn(v, `${path}[${i}]`);
  else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) yield* stringsIn(v, `${path}.${k}`);
}

const registered = registeredMetrics();

describe('ops/grafana-dashboard.json', () => {
  const dashboard = JSON.parse(read('ops/grafana-dashboard.json')) as {
    uid: string; title: string; panels: { title: string; type: string; targets?: { expr: string }[] }[];
    templating: { list: { name: string }[] };
  };
  const refs = [...stringsIn(dashboard)].flatMap(([path, text]) => referencesIn(text, `dashboard ${path}`));

  it('references only registered metrics and their labels', () => {
    expect(refs.length).toBeGreaterThan(20);
    expect(checkReferences(refs, registered)).toEqual([]);
  });

  it('charts the gateway metrics an operator needs', () => {
    const used = new Set(refs.map((r) => resolve(r.series, registered)!.name));
    for (const name of ['scanpay_payments_total', 'scanpay_scans_total', 'scanpay_illegal_scans_total', 'scanpay_pin_attempts_total',
      'scanpay_step_seconds', 'scanpay_frames_rejected_total', 'scanpay_scanner_connections', 'scanpay_pool_queue_depth', 'scanpay_batch_size']) {
      expect(used, name).toContain(name);
    }
  });

  it('is an importable dashboard: uid, titled panels with Prometheus queries, a data source variable', () => {
    expect(dashboard.uid).toBe('scanpay-gateway');
    const charts = dashboard.panels.filter((p) => p.type !== 'row');
    expect(charts.length).toBeGreaterThanOrEqual(15);
    for (const p of charts) {
      expect(p.title, JSON.stringify(p)).toBeTruthy();
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.expr.trim(), p.title).not.toBe('');
    }
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'instance']);
  });
});

describe('ops/prometheus-alerts.yml', () => {
  type Rule = { alert?: string; expr?: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  const doc = parseYamlSubset(read('ops/prometheus-alerts.yml')) as { groups: { name: string; rules: Rule[] }[] };
  const rules = doc.groups.flatMap((g) => g.rules.map((r) => ({ group: g.name, ...r })));

  it('every rule is an alert with an expression, a severity and a summary', () => {
    expect(rules.length).toBeGreaterThanOrEqual(10);
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size, 'alert names are unique').toBe(names.length);
    for (const r of rules) {
      expect(r.alert, JSON.stringify(r)).toMatch(/^Scanpay[A-Za-z]+$/);
      expect(typeof r.expr, r.alert).toBe('string');
      expect(['warning', 'critical'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      if (r.for !== undefined) expect(r.for, r.alert).toMatch(/^[0-9]+[smh]$/);
    }
  });

  it('references only registered metrics and their labels', () => {
    const refs = rules.flatMap((r) => referencesIn(r.expr!, `alert ${r.alert}`));
    expect(refs.length).toBeGreaterThan(10);
    expect(checkReferences(refs, registered)).toEqual([]);
  });

  it('covers error rate, p99 latency, PIN lockout spikes and Redis down', () => {
    const exprOf = (alert: string) => rules.find((r) => r.alert === alert)?.expr ?? '';
    expect(exprOf('ScanpayInternalErrors')).toContain('scanpay_frames_rejected_total{code="INTERNAL"}');
    expect(exprOf('ScanpayStepLatencyHigh')).toMatch(/histogram_quantile\(0\.99, .*scanpay_step_seconds_bucket/);
    expect(exprOf('ScanpayPinLockoutSpike')).toContain('scanpay_payments_total{outcome="declined",reason="CARD_LOCKED"}');
    expect(exprOf('ScanpayNotReady')).toContain('probe_success{job="scanpay-readyz"}');
  });
});

describe('docs/operations.md', () => {
  const doc = read('docs/operations.md');
  const [described, gaps = ''] = doc.split(/^## Gaps$/m);

  it('names only registered metrics (outside its Gaps section)', () => {
    expect(checkReferences(referencesIn(described, 'docs/operations.md'), registered)).toEqual([]);
  });

  it('lists as gaps only metrics that do not exist yet (once one does, document it above instead)', () => {
    const wanted = [...gaps.matchAll(/^\| `(scanpay_[a-z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(wanted.length).toBeGreaterThan(0);
    for (const name of wanted) expect(resolve(name, registered), name).toBeNull();
  });

  it("documents every metric the gateway registers itself (prom-client's process defaults aside)", () => {
    const own = [...registered.keys()].filter((n) => !/^scanpay_(process|nodejs)_/.test(n));
    expect(own.length).toBeGreaterThanOrEqual(9);
    for (const name of own) expect(described, name).toContain(`\`${name}\``);
  });

  it('links the dashboard and the alert rules', () => {
    expect(doc).toContain('ops/grafana-dashboard.json');
    expect(doc).toContain('ops/prometheus-alerts.yml');
  });
});

const promtool = onPath('promtool');
// Under CI a missing promtool fails the run (.ci/run installs it); elsewhere the checks are skipped, loudly.
const skipPromtool = !promtool && process.env.CI !== 'true';
if (skipPromtool) console.warn('\n!! SKIPPED: promtool checks of ops/prometheus-alerts.yml (install Debian package `prometheus` to run them)\n');
describe.skipIf(skipPromtool)('promtool', () => {
  if (!promtool) {
    it('has promtool (CI requires it: Debian package prometheus)', () => {
      throw new Error('promtool is not on PATH; CI requires it (apt-get install prometheus)');
    });
    return;
  }

  it('check rules: the rule file is valid Prometheus', () => {
    expect(execFileSync(promtool!, ['check', 'rules', 'ops/prometheus-alerts.yml'], { cwd: ROOT, encoding: 'utf8' })).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('test rules: the alerts fire on the series in ops/prometheus-alerts.test.yml, and only then', () => {
    expect(execFileSync(promtool!, ['test', 'rules', 'prometheus-alerts.test.yml'], { cwd: `${ROOT}ops`, encoding: 'utf8' })).toContain('SUCCESS');
  });
});
