/**
 * bench/RESULTS.md is written by several benchmarks: bench/e2e/results-md.ts writes the whole page from
 * the full-run results, and others own a marked section of it (`<!-- name:begin … -->` … `<!-- name:end -->`).
 * A writer replaces only its own section; the whole-page writer keeps every marked section it finds.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const RESULTS_MD = new URL('./RESULTS.md', import.meta.url);

const SECTION = /<!-- ([a-z0-9-]+):begin[^>]*-->[\s\S]*?<!-- \1:end -->/g;

/** Writes `body` as the section `name` of RESULTS.md, replacing the previous one or appending it. */
export function writeResultsSection(name: string, writer: string, body: string): void {
  const md = existsSync(RESULTS_MD) ? readFileSync(RESULTS_MD, 'utf8') : '# Benchmark results\n';
  const begin = `<!-- ${name}:begin (${writer} writes this section) -->`;
  const section = `${begin}\n${body.trimEnd()}\n<!-- ${name}:end -->`;
  const existing = [...md.matchAll(SECTION)].find((m) => m[1] === name);
  writeFileSync(RESULTS_MD, existing ? md.replace(existing[0], section) : `${md.trimEnd()}\n\n${section}\n`);
}

/** The marked sections of the current RESULTS.md but `except`, for a writer that rewrites the rest of the page. */
export function keptResultsSections(except: readonly string[] = []): string {
  if (!existsSync(RESULTS_MD)) return '';
  return [...readFileSync(RESULTS_MD, 'utf8').matchAll(SECTION)].filter((m) => !except.includes(m[1]!)).map((m) => m[0]).join('\n\n');
}

/** The marked section `name` of the current RESULTS.md, markers included, for a writer that places it itself. */
export function keptResultsSection(name: string): string | undefined {
  if (!existsSync(RESULTS_MD)) return undefined;
  return [...readFileSync(RESULTS_MD, 'utf8').matchAll(SECTION)].find((m) => m[1] === name)?.[0];
}
