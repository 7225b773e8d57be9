/**
 * The crypto core for Node: loads build/scanpay-core.wasm, or build/scanpay-core.scalar.wasm on an engine
 * without wasm SIMD (both built by `npm run build:wasm`; the package ships them in dist/build/).
 * Browsers get core/browser.ts through the `browser` export condition; other runtimes can use
 * instantiateCore / instantiateCoreSync with their own bytes.
 * @example
 *   const core = await loadCore();                       // SIMD where the engine has it
 *   const scalar = await loadCore(undefined, { build: 'scalar' });
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ScanpayError } from './errors.ts';
import { CORE_WASM_FILES, pickCoreBuild, type CoreBuild, type LoadCoreOptions } from './simd.ts';
import { instantiateCore, instantiateCoreSync, type WasmCryptoCore } from './wasm-core.ts';

export function coreWasmPath(build: CoreBuild): string {
  return fileURLToPath(new URL(`../build/${CORE_WASM_FILES[build]}`, import.meta.url));
}

export const CORE_WASM_PATH = coreWasmPath('simd');
export const CORE_SCALAR_WASM_PATH = coreWasmPath('scalar');

function missing(path: string, e: unknown): ScanpayError {
  return new ScanpayError('CORE_LOAD_FAILED', `cannot read ${path} (run \`npm run build\`): ${(e as Error).message}`);
}

export function loadCoreSync(bytes?: Uint8Array, opts: LoadCoreOptions = {}): WasmCryptoCore {
  if (bytes) return instantiateCoreSync(bytes);
  const path = coreWasmPath(pickCoreBuild(opts.build));
  let file: Uint8Array;
  try {
    file = readFileSync(path);
  } catch (e) {
    throw missing(path, e);
  }
  return instantiateCoreSync(file);
}

export async function loadCore(bytes?: Uint8Array, opts: LoadCoreOptions = {}): Promise<WasmCryptoCore> {
  if (bytes) return instantiateCore(bytes);
  const path = coreWasmPath(pickCoreBuild(opts.build));
  let file: Uint8Array;
  try {
    file = await readFile(path);
  } catch (e) {
    throw missing(path, e);
  }
  return instantiateCore(file);
}

export * from './portable.ts';
