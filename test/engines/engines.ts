/**
 * The engines the core must run in, each behind one interface: probe(build, jobs) answers the jobs of
 * test/engines/probe.js, bench(config) runs bench/engines/workload.js. `missing()` says why an engine
 * cannot run here (null when it can). Shared by test/engines and bench/engines.
 *   node      V8, in its own process through the compiled browser entry (hosts/cli-host.js)
 *   deno      V8 with another host (npm package `deno`)
 *   bun       JavaScriptCore (npm package `bun`)
 *   chromium  V8 in a page, importing `scanpay/core` through its browser condition (playwright-core)
 *   firefox   SpiderMonkey in a page (Debian firefox-esr over WebDriver BiDi, puppeteer-core)
 *   native    the scalar build through wasm2c and gcc, no JavaScript at all (native/probe.c)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CoreBuild } from '../../core/index.ts';
import { CORE_SCALAR_WASM_PATH } from '../../core/index.ts';
import { startBrowserServer, type BrowserServer } from './browser-server.ts';
import { CHROMIUM, launchChromium } from '../support/chromium.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HOST = fileURLToPath(new URL('./hosts/cli-host.js', import.meta.url));
const PROBE_C = fileURLToPath(new URL('./native/probe.c', import.meta.url));
const DIST_BROWSER = join(ROOT, 'dist/core/browser.js');
const FIREFOX = '/usr/bin/firefox-esr';
const WASM2C_RUNTIME = '/usr/src/wasm2c'; // Debian wabt: wasm-rt.h, wasm-rt-impl.{c,h} (also /usr/share/wabt/wasm2c)

export type EngineName = 'node' | 'deno' | 'bun' | 'chromium' | 'firefox' | 'native';

/** What bench/engines/workload.js returns for one engine. */
export interface EngineBench {
  core: Partial<Record<CoreBuild, number>>; // µs per record
  libsodium?: number;
  batch: number;
  passed: number;
}

export interface Engine {
  name: EngineName;
  vm: string;
  builds: readonly CoreBuild[];
  missing(): string | null;
  version(): Promise<string>;
  probe(build: CoreBuild, jobs: string): Promise<string>;
  bench(config: object): Promise<EngineBench>;
  close(): Promise<void>;
}

function onPath(binary: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, binary), constants.X_OK);
      return join(dir, binary);
    } catch {
      // not here
    }
  }
  return null;
}

function needDist(): string | null {
  return existsSync(DIST_BROWSER) ? null : 'dist/ is not built (npm run build)';
}

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { cwd: ROOT, input, encoding: 'utf8', maxBuffer: 256 << 20, timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Writes text to a temp file for the host's argv; removes it afterwards. */
function withTempFile<T>(name: string, text: string, body: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'scanpay-engine-'));
  try {
    const path = join(dir, name);
    writeFileSync(path, text);
    return body(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Node, Deno and Bun: the same host script under each runtime. */
function cliEngine(name: 'node' | 'deno' | 'bun', vm: string, binary: () => string | null, prefix: string[], benchPrefix = prefix): Engine {
  const bin = () => binary() ?? name;
  return {
    name, vm, builds: ['simd', 'scalar'],
    missing: () => needDist() ?? (binary() ? null : `${name} is not installed (npm ci installs the \`${name}\` dev dependency)`),
    version: async () => run(bin(), ['--version']).trim().split('\n')[0]!,
    probe: async (build, jobs) => withTempFile('jobs.txt', jobs, (path) => run(bin(), [...prefix, HOST, 'probe', build, path])),
    bench: async (config) => withTempFile('bench.json', JSON.stringify(config), (path) => JSON.parse(run(bin(), [...benchPrefix, HOST, 'bench', path]))),
    close: async () => {},
  };
}

const localBin = (name: string) => () => {
  const path = join(ROOT, 'node_modules/.bin', name);
  return existsSync(path) ? path : onPath(name);
};

/** A page on the browser server, opened once and reused. */
interface BrowserPage {
  evaluate<T>(fn: string, arg: unknown): Promise<T>;
  version: string;
  close(): Promise<void>;
}

function browserEngine(name: 'chromium' | 'firefox', vm: string, executable: string, open: (url: string) => Promise<BrowserPage>): Engine {
  let session: Promise<{ server: BrowserServer; page: BrowserPage }> | null = null;
  const page = () => {
    session ??= (async () => {
      const server = await startBrowserServer();
      try {
        return { server, page: await open(server.url) };
      } catch (e) {
        await server.close();
        throw e;
      }
    })();
    return session.then((s) => s.page);
  };
  return {
    name, vm, builds: ['simd', 'scalar'],
    missing: () => needDist() ?? (existsSync(executable) ? null : `${executable} is missing (apt-get install ${name === 'chromium' ? 'chromium' : 'firefox-esr'})`),
    version: async () => (await page()).version,
    probe: async (build, jobs) => (await page()).evaluate<string>('([build, jobs]) => window.scanpayProbe(build, jobs)', [build, jobs]),
    bench: async (config) => (await page()).evaluate<EngineBench>('(config) => window.scanpayBench(config)', config),
    close: async () => {
      if (!session) return;
      const s = await session.catch(() => null);
      session = null;
      await s?.page.close();
      await s?.server.close();
    },
  };
}

async function openChromium(url: string): Promise<BrowserPage> {
  const browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction('window.scanpayReady === true');
  return {
    version: `Chromium ${browser.version()}`,
    // a string body: the page's globals are not this process's types
    evaluate: <T>(fn: string, arg: unknown) => page.evaluate(`(${fn})(${JSON.stringify(arg)})`) as Promise<T>,
    close: () => browser.close(),
  };
}

async function openFirefox(url: string): Promise<BrowserPage> {
  const puppeteer = (await import('puppeteer-core')).default;
  const browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true, protocol: 'webDriverBiDi' });
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction('window.scanpayReady === true');
  return {
    version: await browser.version(),
    evaluate: <T>(fn: string, arg: unknown) => page.evaluate(`(${fn})(${JSON.stringify(arg)})`) as Promise<T>,
    close: () => browser.close(),
  };
}

/** wasm2c + gcc: builds native/probe.c against the scalar core once per process. */
function nativeEngine(): Engine {
  let built: { dir: string; exe: string } | null = null;
  const exe = () => {
    if (!built) {
      const dir = mkdtempSync(join(tmpdir(), 'scanpay-native-'));
      execFileSync('wasm2c', [CORE_SCALAR_WASM_PATH, '-n', 'scanpay_core', '-o', join(dir, 'core.c')]);
      const out = join(dir, 'probe');
      execFileSync('gcc', ['-O2', '-I', dir, '-I', WASM2C_RUNTIME, PROBE_C, join(dir, 'core.c'), join(WASM2C_RUNTIME, 'wasm-rt-impl.c'), '-lm', '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
      built = { dir, exe: out };
    }
    return built.exe;
  };
  return {
    name: 'native', vm: 'C (wasm2c + gcc)', builds: ['scalar'], // wasm2c 1.0.32 aborts on SIMD
    missing: () => {
      for (const tool of ['wasm2c', 'gcc']) if (!onPath(tool)) return `${tool} is not installed (apt-get install ${tool === 'gcc' ? 'gcc' : 'wabt'})`;
      return existsSync(join(WASM2C_RUNTIME, 'wasm-rt-impl.c')) ? null : `${WASM2C_RUNTIME}/wasm-rt-impl.c is missing (Debian wabt ships it)`;
    },
    version: async () => `${run('wasm2c', ['--version']).trim()} · ${run('gcc', ['--version']).split('\n')[0]}`,
    probe: async (build, jobs) => {
      if (build !== 'scalar') throw new Error('native runs the scalar build only');
      return run(exe(), [], jobs);
    },
    bench: async (config) => {
      const { records, batch, minMs } = config as { records: string; batch: number; minMs: number };
      return withTempFile('records.bin', '', (path) => {
        writeFileSync(path, Buffer.from(records, 'hex'));
        const r = JSON.parse(run(exe(), ['bench', path, String(batch), String(minMs)])) as { usPerRecord: number; passed: number };
        return { core: { scalar: r.usPerRecord }, batch, passed: r.passed };
      });
    },
    close: async () => {
      if (built) rmSync(built.dir, { recursive: true, force: true });
      built = null;
    },
  };
}

export const ENGINES: readonly Engine[] = [
  // the probe runs under plain node; the bench imports the TypeScript libsodium anchor, so through tsx
  cliEngine('node', 'V8', () => process.execPath, [], ['--import', import.meta.resolve('tsx')]),
  cliEngine('deno', 'V8', localBin('deno'), ['run', '--allow-read']),
  cliEngine('bun', 'JavaScriptCore', localBin('bun'), []),
  browserEngine('chromium', 'V8', CHROMIUM, openChromium),
  browserEngine('firefox', 'SpiderMonkey', FIREFOX, openFirefox),
  nativeEngine(),
];
