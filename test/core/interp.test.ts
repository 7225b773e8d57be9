/**
 * The core runs unchanged outside V8: WABT's reference interpreter must print `selftest() => i32:0`.
 * Also: the module imports nothing but AssemblyScript's `env.abort`, and selftest() is 0 in Node.
 * Without wasm-interp (Debian package `wabt`) the interpreter test is skipped loudly, except under
 * CI=true, where it fails.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CORE_WASM_PATH, loadCore } from '../../core/index.ts';
import type { CryptoCore } from '../../core/types.ts';

const IN_CI = process.env.CI === 'true';

function wasmInterpVersion(): string | null {
  try {
    return execFileSync('wasm-interp', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return null;
  }
}
const interpVersion = wasmInterpVersion();
if (interpVersion === null && !IN_CI) {
  console.warn(
    '\n*** SKIPPING the wasm-interp test: `wasm-interp` is not on PATH. ' +
      'Install it with `apt-get install wabt`; under CI=true this test fails instead. ***\n',
  );
}

let core: CryptoCore;
beforeAll(async () => {
  core = await loadCore();
});

describe('core outside V8 (WABT wasm-interp)', () => {
  it.skipIf(interpVersion === null && !IN_CI)(
    `wasm-interp ${interpVersion ?? '(missing)'} runs every export and selftest() returns 0`,
    () => {
      if (interpVersion === null) throw new Error('wasm-interp is not installed (apt-get install wabt) and CI=true');
      let output: string;
      try {
        output = execFileSync('wasm-interp', [CORE_WASM_PATH, '--dummy-import-func', '--run-all-exports'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 50_000,
          maxBuffer: 16 * 1024 * 1024,
        });
      } catch (e) {
        // a non-zero exit (e.g. another export trapping on zero arguments) still has the output to judge
        const err = e as { stdout?: string; stderr?: string; message: string };
        output = `${err.stdout ?? ''}\n${err.stderr ?? ''}\n(${err.message})`;
      }
      expect(output, output).toContain('selftest() => i32:0');
    },
    60_000,
  );
});

describe('module shape', () => {
  it('imports nothing but env.abort', () => {
    const module = new WebAssembly.Module(readFileSync(CORE_WASM_PATH));
    const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`);
    for (const imp of imports) expect(imp).toBe('env.abort:function');
    expect(WebAssembly.Module.exports(module).map((e) => e.name)).toContain('selftest');
  });

  it('selftest() is 0 in Node', () => {
    expect(core.selftest()).toBe(0);
  });
});
