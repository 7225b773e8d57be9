import type { WasmCryptoCore } from '../../core/wasm-core.ts';

/** Answers the jobs (format in probe.js), one line each, after selftest, abi and lanes lines; `api` (scanpay/core) for `code` jobs. */
export function runJobs(core: WasmCryptoCore, jobs: string, api?: { deriveWalletKey: Function; oneTimeCode: Function }): string;
