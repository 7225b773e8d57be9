/**
 * Everything of `scanpay/core` that runs in any engine (no Node APIs): the wrapper, layouts, types and
 * errors. core/index.ts (Node) and core/browser.ts add a loader that finds the .wasm their own way.
 */
export { MAX_INPUT } from './bytes.ts';
export {
  DVD1_RECORD_SIZE, DVD1_FIELDS, DVD1_AMOUNT, DVD1_AMOUNT_OFFSET, DVD1_CRYPTOGRAM_SIZE, DVD1_OPENED_SIZE, DVD1_OPENED_FIELDS,
  DVD1_LABELS, DVD1_CODE, DVD1_CODE_FIELDS, DVD1_ENROLMENT_ID_SIZE, DVD1_ENROLLED_SIZE, DVD1_ENROLLED_FIELDS,
  encodeDvd1Record, encodeDvd1OpenInput, encodeDvd1CodeRecord, decodeDvd1Results, decodeDvd1Opened, decodeDvd1Enrolled, expectedDvd1Globals,
  dvd1LayoutMismatches, checkDvd1Layout,
} from './dvd1-layout.ts';
export {
  CORE_ABI_VERSION, HKDF_MAX_LENGTH, ED25519_PUBLIC_KEY_LENGTH, ED25519_SIGNATURE_LENGTH, DVD1_MAX_RECORDS_PER_CALL,
  instantiateCore, instantiateCoreSync, WasmCryptoCore,
} from './wasm-core.ts';
export type { Dvd1PackedResult, Dvd1PackedOpened, Dvd1PackedEnrolled } from './wasm-core.ts';
export { CORE_WASM_FILES, engineHasWasmSimd, pickCoreBuild, type CoreBuild, type LoadCoreOptions } from './simd.ts';
export {
  RECEIPT_MAGIC, RECEIPT_TEXT_PREFIX, RECEIPT_KINDS, RECEIPT_HASH_BYTES, RECEIPT_ZERO_HASH, RECEIPT_MAX_BYTES, RECEIPT_MAX_TEXT, RECEIPT_PROBLEMS,
  encodeReceiptBody, encodeReceipt, decodeReceipt, receiptText, receiptBytes, receiptMaskedPan, verifyReceipt, verifyReceiptChain,
} from './receipt.ts';
export type { Receipt, ReceiptFields, ReceiptKind, ReceiptKeys, ReceiptPublicKey, ReceiptProblem, ReceiptVerdict, ReceiptChainVerdict } from './receipt.ts';
export {
  CODE_VERSION, CODE_SIZE, CODE_SIGNED_SIZE, CODE_MAC_SIZE, CODE_TEXT_LENGTH, CODE_TEXT_MAX, CODE_STEP_SECONDS, CODE_SKEW_STEPS,
  CODE_LABELS, CODE_FIELDS, ENROLMENT_ID_SIZE, WALLET_KEY_SIZE,
  encodeCode, decodeCode, codeText, codeBytes, codeMessage, codeTimeStep, codeInWindow, deriveWalletKey, oneTimeCode,
} from './one-time-code.ts';
export type { CodeFields, OneTimeCode } from './one-time-code.ts';
export { BASE45_ALPHABET, encodeBase45, decodeBase45 } from './base45.ts';
export * from './types.ts';
export * from './errors.ts';
