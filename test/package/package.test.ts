/**
 * The package as a new user gets it: the source tree is copied to a temp folder (as a fresh clone would
 * be, plus decoy secrets of the kinds that once leaked), `npm pack` runs there (prepack builds the .wasm
 * and dist/), the tarball is installed into an empty folder with `npm install --omit=dev`, and from there,
 * with plain `node` and no tsx: every entry point imports, both core builds run, the declaration files
 * type-check, the compiled gateway (dist/gateway/main.js) serves over Redis, the `scanpay` bin issues a
 * card and the SDK pays it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, describeRedis, freePort, redisForTests, testKeyPrefix } from '../support/redis.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONSUMER = fileURLToPath(new URL('./consumer/', import.meta.url));
const SLOW = 300_000;
/** import/export … from '…' statements (not the usage examples in doc comments). */
const IMPORT_FROM = /^(?:import|export)\b[^;]*?\bfrom\s+['"]([^'"]+)['"]/gm;

/** Files that must never be packed: key rings, fleet keys, device secrets, demo cards, TypeScript sources. */
const FORBIDDEN = [/keyring/i, /fleet\.key$|\.fleet-key$/, /\.secret$/, /demo-cards\//, /(?<!\.d)\.ts$/, /^package\/(test|bench|assembly)\//];
const DECOYS = ['scanpay-keyring.json', 'demo-cards/demo-scanner.secret', 'demo-cards/card-1.png', 'fleet.key', 'docs/scanpay-keyring.json', 'bin/scanner-7.secret'];

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

const redis = await redisForTests();
let work: string;
let app: string;
let pack: PackResult;

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
}

/** Plain node in the install folder: no tsx loader, no inherited --import flags. */
function nodeIn(args: string[], env: NodeJS.ProcessEnv = {}): string {
  return run(process.execPath, args, app, { NODE_OPTIONS: '', ...env });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'scanpay-pkg-'));
  // the tree a clone would have: tracked and not-ignored files (new ones too), never build/ or dist/
  const src = join(work, 'src');
  const listed = run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], ROOT).split('\0').filter(Boolean);
  for (const file of listed) {
    if (!existsSync(join(ROOT, file))) continue; // deleted in the working tree, not yet committed
    mkdirSync(dirname(join(src, file)), { recursive: true });
    cpSync(join(ROOT, file), join(src, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'), 'dir'); // asc and tsc for prepack
  for (const decoy of DECOYS) {
    mkdirSync(dirname(join(src, decoy)), { recursive: true });
    writeFileSync(join(src, decoy), 'decoy secret: must not be packed\n');
  }
  const out = run('npm', ['pack', '--json', '--pack-destination', work], src);
  pack = (JSON.parse(out.slice(out.indexOf('['))) as PackResult[])[0]!;
  console.log(`npm pack: ${pack.filename} ${pack.size} bytes packed, ${pack.unpackedSize} unpacked, ${pack.files.length} files`);

  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scanpay-consumer', private: true, type: 'module' }));
  run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock', join(work, pack.filename)], app);
  cpSync(CONSUMER, app, { recursive: true });
}, SLOW);

afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
  await redis?.stop();
});

describe('npm pack', () => {
  it('ships the compiled JavaScript, its declarations and both .wasm builds', () => {
    const paths = pack.files.map((f) => f.path);
    for (const needed of [
      'dist/build/scanpay-core.wasm', 'dist/build/scanpay-core.scalar.wasm', 'bin/scanpay.js',
      'dist/core/index.js', 'dist/core/index.d.ts', 'dist/core/browser.js', 'dist/core/browser.d.ts',
      'dist/sdk/index.js', 'dist/gateway/index.js', 'dist/gateway/pool/worker.js', 'dist/issuer/index.d.ts', 'dist/cli/main.js',
    ]) expect(paths, needed).toContain(needed);
  });

  it('packs no key ring, fleet key, device secret, demo card, test or TypeScript source', () => {
    const bad = pack.files.map((f) => `package/${f.path}`).filter((p) => FORBIDDEN.some((re) => re.test(p)));
    expect(bad).toEqual([]);
    expect(pack.files.some((f) => DECOYS.includes(f.path))).toBe(false);
  });

  it('ships no benchmark engine: no baseline file, and the compiled gateway neither imports nor offers one', () => {
    expect(pack.files.map((f) => f.path).filter((p) => /baseline/i.test(p))).toEqual([]);
    const main = readFileSync(join(app, 'node_modules/scanpay/dist/gateway/main.js'), 'utf8');
    expect(main).toContain('startGateway'); // the file read is the gateway's entry point
    expect(main).not.toMatch(/baseline|SCANPAY_ENGINE/i);
    const importsBaseline = pack.files.map((f) => f.path).filter((p) => p.endsWith('.js'))
      .filter((p) => [...readFileSync(join(app, 'node_modules/scanpay', p), 'utf8').matchAll(IMPORT_FROM)].some((m) => /baseline/i.test(m[1]!)));
    expect(importsBaseline).toEqual([]);
  });

  it('git ignores the secrets the tools write into a working folder', () => {
    for (const decoy of DECOYS.filter((d) => !d.startsWith('docs/') && !d.startsWith('bin/'))) {
      expect(run('git', ['check-ignore', decoy], ROOT).trim(), decoy).toBe(decoy);
    }
  });

  it('installs without tsx, TypeScript or AssemblyScript', () => {
    const installed = JSON.parse(readFileSync(join(app, 'node_modules/scanpay/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(installed.dependencies)).not.toContain('tsx');
    for (const dev of ['tsx', 'typescript', 'assemblyscript', 'vitest']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
  });
});

describe('the installed package under plain node', () => {
  it('imports every entry point, runs both core builds and a gateway payment on the embedded store', () => {
    const report = JSON.parse(nodeIn(['entry-points.mjs']));
    expect(report.tsx).toBe('absent');
    expect(report.exports.core).toEqual(expect.arrayContaining(['loadCore', 'instantiateCore', 'WasmCryptoCore', 'CORE_ABI_VERSION', 'pickCoreBuild']));
    expect(report.exports.sdk).toEqual(expect.arrayContaining(['ScannerClient', 'PROTOCOL_VERSION']));
    expect(report.exports.gateway).toEqual(expect.arrayContaining(['startGateway', 'deviceSecret']));
    expect(report.exports.issuer).toEqual(expect.arrayContaining(['Issuer', 'IssuerKeyRing', 'openStore', 'MemoryStore', 'RedisStore']));
    expect(report.lanes).toEqual({ simd: 4, scalar: 1, auto: 4 }); // Node 20 has wasm SIMD, so the loader picks it
    expect(report.selftest).toEqual([0, 0]);
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'; // FIPS 180-2 B.1
    expect(report.sha256abc).toEqual([abc, abc]);
    expect(report.inMemoryPayment).toBe('approved');
  }, 60_000);

  it('the browser condition resolves to an entry free of Node APIs', () => {
    const browser = readFileSync(join(app, 'node_modules/scanpay/dist/core/browser.js'), 'utf8');
    const imported = [...browser.matchAll(IMPORT_FROM)].map((m) => m[1]!);
    expect(imported.length).toBeGreaterThan(0);
    for (const spec of imported) expect(spec, spec).toMatch(/^\.\//);
    // and what it imports, transitively, stays within core/ and names no node: module
    const seen = new Set<string>();
    const walk = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/from\s+['"]node:|\brequire\(|\bprocess\.|\bBuffer\./);
      for (const m of text.matchAll(IMPORT_FROM)) walk(join(dirname(file), m[1]!));
    };
    walk(join(app, 'node_modules/scanpay/dist/core/browser.js'));
    expect(seen.size).toBeGreaterThan(3);
  });

  it('its public declarations name no third-party package, only node: modules and its own files', () => {
    // A dependency's declarations in a consumer's compile make its breakage the consumer's (ioredis 6.1 once
    // imported an untyped module there): every type the entry points reach is the package's own.
    const dist = join(app, 'node_modules/scanpay/dist');
    const entries = ['core/index.d.ts', 'core/browser.d.ts', 'sdk/index.d.ts', 'gateway/index.d.ts', 'issuer/index.d.ts'];
    const seen = new Set<string>();
    const foreign: string[] = [];
    const walk = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, ''); // not the usage examples in doc comments
      for (const m of code.matchAll(/(?:\bfrom\s+|\bimport\(\s*)['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) walk(join(dirname(file), spec.replace(/\.(?:ts|js)$/, '.d.ts')));
        else if (!spec.startsWith('node:')) foreign.push(`${file.slice(dist.length + 1)} → ${spec}`);
      }
    };
    for (const entry of entries) walk(join(dist, entry));
    expect(seen.size).toBeGreaterThan(20);
    expect(foreign).toEqual([]);
  });

  it('its declaration files type-check a strict consumer (no skipLibCheck) against what a fresh install resolves', () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), 'typed.ts'];
    try {
      run(process.execPath, [tsc, ...args], app);
    } catch (e) {
      const err = e as { stdout?: string; message: string };
      expect.fail(`tsc rejected the consumer:\n${err.stdout ?? err.message}`);
    }
  }, 60_000);
});

describeRedis(redis, 'the installed package over Redis: compiled gateway, the bin, the SDK', (r) => {
  const prefix = testKeyPrefix();
  const fleetKey = randomBytes(32).toString('hex');
  let gateway: ChildProcess | undefined;
  let scannerUrl: string;

  beforeAll(async () => {
    const keyring = join(app, 'keyring.json');
    nodeIn(['node_modules/scanpay/bin/scanpay.js', '--keyring', keyring, 'keys', 'generate']);
    const port = await freePort();
    // what `npm start` runs, from the installed package: compiled main.js and workers, no tsx anywhere
    gateway = spawn(process.execPath, ['node_modules/scanpay/dist/gateway/main.js'], {
      cwd: app,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env, NODE_OPTIONS: '', PORT: String(port), REDIS_URL: r.url, SCANPAY_REDIS_PREFIX: prefix,
        SCANPAY_KEYRING_FILE: keyring, SCANPAY_FLEET_KEY: fleetKey, SCANPAY_THREADS: '1', LOG_LEVEL: 'warn', OPS_PORT: '0', MERCHANT_PORT: '0',
      },
    });
    let output = '';
    scannerUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${output}`)), 30_000);
      const onData = (d: Buffer) => {
        output += d;
        const m = /\(scanners: (ws:\/\/\S+)\)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      gateway!.stdout!.on('data', onData);
      gateway!.stderr!.on('data', onData); // the banner is on stderr, the log on stdout
      gateway!.once('exit', (code) => reject(new Error(`gateway exited ${code}:\n${output}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (gateway && gateway.exitCode === null) {
      const exited = new Promise((resolve) => gateway!.once('exit', resolve));
      gateway.kill('SIGTERM');
      await exited;
    }
    await deleteKeys(r.url, prefix);
  });

  it('`scanpay card issue` issues a card that the SDK pays at the gateway', () => {
    const keyring = join(app, 'keyring.json');
    const issued = JSON.parse(nodeIn(['node_modules/scanpay/bin/scanpay.js', '--redis', r.url, '--prefix', prefix, '--keyring', keyring,
      'card', 'issue', '--pin', '2468', '--limit', '5000', '--currency', 'EUR', '--json']));
    expect(issued.payload).toMatch(/\S{20,}/);
    expect(issued.maskedPan).toMatch(/[0-9]{4}$/);
    const secret = nodeIn(['node_modules/scanpay/bin/scanpay.js', 'scanner', 'provision', 'pkg-scanner-1'], { SCANPAY_FLEET_KEY: fleetKey }).trim();
    const env = { GATEWAY_WS: scannerUrl, DEVICE_ID: 'pkg-scanner-1', DEVICE_SECRET: secret, PAYLOAD: issued.payload, AMOUNT: '1250', CURRENCY: 'EUR' };
    const paid = JSON.parse(nodeIn(['pay.mjs'], { ...env, PIN: '2468' }));
    expect(paid).toEqual({ maskedPan: issued.maskedPan, outcome: 'approved', reason: null, receipt: true });
    // the gateway evaluates one PIN per card per 250 ms (SCANPAY_PIN_PACE_MS); a second process can start sooner
    // than that, and would be told RATE_LIMITED, as documented
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    const wrong = JSON.parse(nodeIn(['pay.mjs'], { ...env, PIN: '1111' }));
    expect(wrong.outcome).toBe('declined');
  }, 60_000);
});
