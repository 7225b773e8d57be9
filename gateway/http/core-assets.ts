/**
 * The core's browser modules and its .wasm, served from this gateway under a page's path (`<base>/core/:file`,
 * `<base>/build/:file`), for the pages that run `scanpay/core` in the browser (receipt verify, the wallet) under a
 * strict CSP: their own scripts and the core only. The modules are the compiled ones beside this module (dist/core,
 * dist/build in the package); from the TypeScript sources (tsx, tests) they are transpiled on first request with the
 * dev dependency `typescript`. Each file is read once and kept.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { HttpResponse, HttpRoute } from './types.ts';

export const STATIC_HEADERS = { 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' };

export const asset = (contentType: string, body: string | Uint8Array): HttpResponse => ({ status: 200, contentType, body, headers: STATIC_HEADERS });
const missing = (): HttpResponse => ({ status: 404, contentType: 'text/plain', body: 'not found' });

const COMPILED = import.meta.url.endsWith('.js');
const CORE_DIR = new URL('../../core/', import.meta.url);
const BUILD_DIR = new URL('../../build/', import.meta.url);
const CORE_FILE = /^([a-z0-9-]+)\.(?:js|ts)$/;
const WASM_FILE = /^scanpay-core(\.scalar)?\.wasm$/;

/** One of the core's modules, as JavaScript: the compiled file, or (from the sources) the .ts transpiled. */
function coreModule(name: string): Promise<string | null> {
  return moduleIn(CORE_DIR, name);
}

/**
 * A module of this package as JavaScript, for a page's script: `name`.js in `dir` (compiled), or `name`.ts
 * transpiled (the sources); null when there is none. A module a page imports must import nothing else.
 */
export async function moduleIn(dir: URL, name: string): Promise<string | null> {
  try {
    if (COMPILED) return await readFile(fileURLToPath(new URL(`${name}.js`, dir)), 'utf8');
    const source = await readFile(fileURLToPath(new URL(`${name}.ts`, dir)), 'utf8');
    const ts = (await import('typescript')).default; // a dev dependency: only ever loaded from the sources
    return ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  } catch {
    return null;
  }
}


/** The two routes of `base`'s copy of the core: its modules, and its .wasm (SIMD or scalar build). */
export function coreAssetRoutes(base: string): HttpRoute[] {
  const modules = new Map<string, string | null>(); // name → JavaScript (null: no such module), kept once read
  const wasm = new Map<string, Uint8Array | null>();
  return [
    {
      method: 'get',
      pattern: `${base}/core/:file`,
      async handler(req) {
        const name = CORE_FILE.exec(req.params.file ?? '')?.[1];
        if (!name) return missing();
        if (!modules.has(name)) modules.set(name, await coreModule(name));
        const js = modules.get(name);
        return js == null ? missing() : asset('text/javascript; charset=utf-8', js);
      },
    },
    {
      method: 'get',
      pattern: `${base}/build/:file`,
      async handler(req) {
        const file = req.params.file ?? '';
        if (!WASM_FILE.test(file)) return missing();
        if (!wasm.has(file)) wasm.set(file, await readFile(fileURLToPath(new URL(file, BUILD_DIR))).catch(() => null));
        const bytes = wasm.get(file);
        return bytes ? asset('application/wasm', bytes) : missing();
      },
    },
  ];
}
