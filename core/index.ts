/**
 * The crypto core for Node: loads build/scanpay-core.wasm (built by `npm run build:wasm`).
 * Browsers and other runtimes use instantiateCore / instantiateCoreSync from wasm-core.ts with their own bytes.
 * @example
 *   const core = await loadCore();
 *   const ok = core.luhn('4111111111111111');
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ScanpayError } from './errors.ts';
import { instantiateCore, instantiateCoreSync, type WasmCryptoCore } from './wasm-core.ts';

export const CORE_WASM_PATH = fileURLToPath(new URL('../build/scanpay-core.wasm', import.meta.url));

function missing(e: unknown): ScanpayError {
  return new ScanpayError('CORE_LOAD_FAILED', `cannot read ${CORE_WASM_PATH} (run \`npm run build\`): ${(e as Error).message}`);
}

export function loadCoreSync(bytes?: Uint8Array): WasmCryptoCore {
  if (bytes) return instantiateCoreSync(bytes);
  let file: Uint8Array;
  try {
    file = readFileSync(CORE_WASM_PATH);
  } catch (e) {
    throw missing(e);
  }
  return instantiateCoreSync(file);
}

export async function loadCore(bytes?: Uint8Array): Promise<WasmCryptoCore> {
  if (bytes) return instantiateCore(bytes);
  let file: Uint8Array;
  try {
    file = await readFile(CORE_WASM_PATH);
  } catch (e) {
    throw missing(e);
  }
  return instantiateCore(file);
}

export { MAX_INPUT } from './bytes.ts';
export { DVD1_RECORD_SIZE, DVD1_OPENED_SIZE, DVD1_FIELDS, encodeDvd1Record, encodeDvd1OpenInput } from './dvd1-layout.ts';
export { HKDF_MAX_LENGTH, DVD1_MAX_RECORDS_PER_CALL, instantiateCore, instantiateCoreSync, WasmCryptoCore } from './wasm-core.ts';
export type { Dvd1PackedResult, Dvd1PackedOpened } from './wasm-core.ts';
export * from './types.ts';
export * from './errors.ts';
