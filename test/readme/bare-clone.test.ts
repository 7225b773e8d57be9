/**
 * A clone with nothing beside it passes the README's test command: no test or benchmark reads a file outside
 * the repository (the Wycheproof vectors once came from a folder beside it; test/vectors/ holds them now). Every
 * `new URL('<relative>', import.meta.url)` in test/ and bench/ must resolve inside the repository.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The folder beside the repository that held the vectors, spelled so that this file does not name it itself. */
const BESIDE = new RegExp(['\\.\\.', 'shared', ''].join('/'));
const RELATIVE_URL = /new URL\(\s*['"`](\.{1,2}\/[^'"`$]*)['"`]\s*,\s*import\.meta\.url\s*\)/g;

describe('a bare clone', () => {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'test', 'bench'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n').filter((f) => /\.(?:[cm]?[jt]s)$/.test(f));

  it('has test and bench files to look at', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it('no test or benchmark resolves a path outside the repository', () => {
    const outside: string[] = [];
    for (const file of files) {
      const text = readFileSync(`${ROOT}${file}`, 'utf8');
      for (const m of text.matchAll(RELATIVE_URL)) {
        const target = fileURLToPath(new URL(m[1]!, pathToFileURL(`${ROOT}${file}`)));
        if (!target.startsWith(ROOT)) outside.push(`${file}: ${m[1]}`);
      }
      if (BESIDE.test(text)) outside.push(`${file}: names a folder beside the repository`);
    }
    expect(outside).toEqual([]);
  });
});
