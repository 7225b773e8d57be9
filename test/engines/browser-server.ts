/**
 * A static server for the browser engines: the compiled `scanpay/core` browser entry (dist/), the probe,
 * the bench workload and the libsodium.js anchor, with an import map so the page imports `scanpay/core`
 * exactly as an application would. TypeScript under bench/ is transpiled on the fly for the anchor.
 * @example
 *   const server = await startBrowserServer();   // server.url → the probe page
 *   await server.close();
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVED = ['dist/', 'test/engines/', 'bench/engines/', 'bench/dvd1/', 'core/', 'node_modules/libsodium-wrappers-sumo/', 'node_modules/libsodium-sumo/'];
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.ts': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, { browser?: { default: string } }> };
const IMPORT_MAP = {
  imports: {
    'scanpay/core': pkg.exports['./core']!.browser!.default.slice(1), // the browser condition, as a bundler would pick it
    'libsodium-wrappers-sumo': '/node_modules/libsodium-wrappers-sumo/dist/modules-sumo-esm/libsodium-wrappers.mjs',
    'libsodium-sumo': '/node_modules/libsodium-sumo/dist/modules-sumo-esm/libsodium-sumo.mjs',
    // bench/dvd1/records.ts imports node:crypto to make records; the anchor only uses its constants
    'node:crypto': 'data:text/javascript,export const createCipheriv = () => { throw new Error("not in a browser") }, createHmac = createCipheriv, hkdfSync = createCipheriv, createHash = createCipheriv;',
  },
};

const PAGE = `<!doctype html><meta charset="utf-8"><title>scanpay core</title>
<script type="importmap">${JSON.stringify(IMPORT_MAP)}</script>
<script type="module">
import * as scanpayCore from 'scanpay/core';
import { runJobs } from '/test/engines/probe.js';
const { loadCore, pickCoreBuild } = scanpayCore;
window.scanpayProbe = async (build, jobs) => runJobs(await loadCore(undefined, { build }), jobs, scanpayCore);
window.scanpayBench = async (config) => {
  const { benchEngine } = await import('/bench/engines/workload.js');
  return benchEngine(config, { coreOf: (build) => loadCore(undefined, { build }) });
};
window.scanpayAutoBuild = pickCoreBuild();
window.scanpayReady = true;
</script>`;

function transpile(source: string): string {
  return ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }, // imports keep their .ts: served transpiled too
  }).outputText;
}

export interface BrowserServer {
  url: string;
  close(): Promise<void>;
}

export async function startBrowserServer(): Promise<BrowserServer> {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
    if (path === '') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      return;
    }
    const file = normalize(path);
    if (file.startsWith('..') || file.includes(`${sep}..`) || !SERVED.some((p) => file.startsWith(p))) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(ROOT + file);
      const type = TYPES[extname(file)] ?? 'application/octet-stream';
      res.writeHead(200, { 'content-type': type }).end(extname(file) === '.ts' ? transpile(body.toString('utf8')) : body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
