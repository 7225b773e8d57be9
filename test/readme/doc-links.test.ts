/**
 * The pages a user reads — README.md and docs/*.md, which the package ships — point at things that exist:
 * every relative link resolves to a file (and its #fragment to a heading there); a link on a docs/ page
 * stays inside what the package ships (package.json `files`), since the package has no source tree to
 * point into (a source file is named in code font as a repository path instead); and every code sample
 * imports the package's entry points (`scanpay/sdk`, …), each name it imports being one the entry exports.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  files: string[];
  exports: Record<string, string | { default: string | { default: string } }>;
};

const read = (page: string) => readFileSync(join(ROOT, page), 'utf8');
/** The page without fenced code blocks and inline code, where `[x](y)` is text, not a link. */
const prose = (text: string) => text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '``');

/** Relative link targets of a page: inline links, reference definitions, and HTML href/src. */
function relativeLinks(page: string): string[] {
  const text = prose(read(page));
  const targets = [
    ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
    ...[...text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]),
    ...[...text.matchAll(/\b(?:href|src)\s*=\s*"([^"]+)"/g)].map((m) => m[1]),
  ];
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t)); // not https:, mailto:, …
}

/** GitHub's anchors for a page's headings (lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2…). */
function anchors(page: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const text = read(page).replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const m of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1].toLowerCase().replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** What the package ships: package.json `files` (its positive entries), plus what npm always includes. */
const shipped = (repoPath: string) => {
  const top = repoPath.split('/')[0];
  return ['package.json', 'README.md', 'LICENSE'].includes(repoPath) || pkg.files.some((f) => !f.startsWith('!') && (f === top || f === repoPath));
};

describe('links in README.md and docs/', () => {
  for (const page of PAGES) {
    it(`${page}: every relative link resolves to a file, and its #fragment to a heading there`, () => {
      const broken: string[] = [];
      for (const link of relativeLinks(page)) {
        const [path, fragment] = link.split('#') as [string, string | undefined];
        const target = path === '' ? join(ROOT, page) : resolve(ROOT, dirname(page), decodeURIComponent(path));
        const targetPage = relative(ROOT, target).split(sep).join('/');
        if (targetPage.startsWith('..') || !existsSync(target)) broken.push(`${link}: no such file`);
        else if (fragment !== undefined && statSync(target).isFile() && target.endsWith('.md') && !anchors(targetPage).has(fragment)) {
          broken.push(`${link}: no heading #${fragment} in ${targetPage}`);
        }
      }
      expect(broken).toEqual([]);
    });
  }

  for (const page of PAGES.filter((p) => p.startsWith('docs/'))) {
    it(`${page}: links only to files the package ships (a source file is named as a repository path, not linked)`, () => {
      const outside = relativeLinks(page)
        .map((link) => link.split('#')[0])
        .filter((path) => path !== '')
        .map((path) => relative(ROOT, resolve(ROOT, 'docs', path)).split(sep).join('/'))
        .filter((repoPath) => !shipped(repoPath));
      expect(outside).toEqual([]);
    });
  }

  it('the check sees links: it finds the docs/ cross-links and README\'s links to docs/', () => {
    expect(relativeLinks('docs/core.md')).toContain('abi.md');
    expect(relativeLinks('README.md')).toContain('docs/protocol.md');
    expect(shipped('docs/abi.md')).toBe(true);
    expect(shipped('ops/grafana-dashboard.json')).toBe(false);
    expect(anchors('docs/protocol.md')).toContain('8-codes');
  });
});

describe('code samples import the package, not the source tree', () => {
  /** `scanpay/x` → the source module its compiled entry is built from (./dist/sdk/index.js → sdk/index.ts). */
  const sourceOf = (specifier: string): string | null => {
    const entry = pkg.exports[`./${specifier.slice('scanpay/'.length)}`];
    if (entry === undefined) return null;
    const file = typeof entry === 'string' ? entry : typeof entry.default === 'string' ? entry.default : entry.default.default;
    return file.endsWith('.js') ? join(ROOT, file.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')) : null;
  };
  const samples = PAGES.flatMap((page) => [...read(page).matchAll(/^```(?:ts|js|mjs|typescript|javascript)\n([\s\S]*?)^```$/gm)]
    .flatMap((m) => [...m[1].matchAll(/^import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'([^']+)'/gm)].map((i) => ({
      page, specifier: i[2], names: i[1].split(',').map((n) => n.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]).filter(Boolean),
    }))));

  it('finds the samples (protocol.md §11, core.md)', () => {
    expect(samples.map((s) => `${s.page} ${s.specifier}`)).toEqual(expect.arrayContaining(['docs/protocol.md scanpay/sdk', 'docs/core.md scanpay/core']));
  });

  for (const { page, specifier, names } of samples) {
    it(`${page}: import { ${names.join(', ')} } from '${specifier}' is an entry point that exports them`, async () => {
      expect(specifier, 'a relative import names the source tree, which the package does not ship').toMatch(/^(scanpay\/|node:)/);
      if (specifier.startsWith('node:')) return;
      const source = sourceOf(specifier);
      expect(source, `${specifier} is not in package.json exports`).not.toBeNull();
      const entry = (await import(source!)) as Record<string, unknown>;
      expect(names.filter((name) => !(name in entry))).toEqual([]);
    });
  }
});
