import type { WasmCryptoCore } from '../../core/wasm-core.ts';

/** Answers the jobs (format in probe.js), one line each, after selftest, abi and lanes lines. */
export function runJobs(core: WasmCryptoCore, jobs: string): string;
