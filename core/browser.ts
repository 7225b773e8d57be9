/**
 * The crypto core for browsers and other engines without Node APIs (`scanpay/core` under the `browser`
 * condition). Fetches the .wasm that sits beside this module in the package (dist/build/), choosing the
 * SIMD or the scalar build by what the engine validates.
 * @example
 *   import { loadCore } from 'scanpay/core';
 *   const core = await loadCore();          // or loadCore(bytes), loadCore(new URL('/my/core.wasm', location.href))
 */
import { ScanpayError } from './errors.ts';
import { CORE_WASM_FILES, pickCoreBuild, type CoreBuild, type LoadCoreOptions } from './simd.ts';
import { instantiateCore, type WasmCryptoCore } from './wasm-core.ts';

/** Where the packaged build sits, relative to this module. */
export function coreWasmUrl(build: CoreBuild): URL {
  return new URL(`../build/${CORE_WASM_FILES[build]}`, import.meta.url);
}

export async function loadCore(source?: Uint8Array | URL | string, opts: LoadCoreOptions = {}): Promise<WasmCryptoCore> {
  if (source instanceof Uint8Array) return instantiateCore(source);
  const url = source ?? coreWasmUrl(pickCoreBuild(opts.build));
  let bytes: Uint8Array;
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (e) {
    throw new ScanpayError('CORE_LOAD_FAILED', `cannot fetch ${String(url)}: ${(e as Error).message}`);
  }
  return instantiateCore(bytes);
}

export * from './portable.ts';
