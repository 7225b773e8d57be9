/**
 * Which build of the core an engine can run: the SIMD build (v128, four records per pass) or the scalar
 * build (no v128 op, same exports and outputs). Engine-neutral: no Node APIs.
 * @example
 *   const build = pickCoreBuild();          // 'simd' where WebAssembly.validate accepts a v128 op
 *   const file = CORE_WASM_FILES[build];
 */
export type CoreBuild = 'simd' | 'scalar';

export interface LoadCoreOptions {
  /** Default: 'simd' when WebAssembly.validate accepts a v128 op, else 'scalar'. */
  build?: CoreBuild;
}

export const CORE_WASM_FILES: Readonly<Record<CoreBuild, string>> = {
  simd: 'scanpay-core.wasm',
  scalar: 'scanpay-core.scalar.wasm',
};

// The smallest module using SIMD: (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt) — the probe
// wasm-feature-detect uses. Only an engine that implements wasm SIMD validates it.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

export function engineHasWasmSimd(): boolean {
  return WebAssembly.validate(SIMD_PROBE);
}

/** The build to load: the one asked for, else SIMD when the engine validates a v128 op, else scalar. */
export function pickCoreBuild(requested?: CoreBuild): CoreBuild {
  if (requested !== undefined) {
    if (requested !== 'simd' && requested !== 'scalar') throw new RangeError(`build must be 'simd' or 'scalar', got ${String(requested)}`);
    return requested;
  }
  return engineHasWasmSimd() ? 'simd' : 'scalar';
}
