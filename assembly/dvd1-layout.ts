/**
 * The DVD-1 layout, defined here and nowhere else: the record (docs/abi.md §DVD-1 records and results), the
 * code record that shares its card-row half, the result formats, the status bits and the labels. dvd1.ts and dvd1x4.ts read it from
 * here; index.ts exports every value as an i32 global (DVD1_KEK_OFFSET, DVD1_STATUS_PVV, ...), so a
 * wrapper checks its own copy against the module it loads: core/dvd1-layout.ts does, and refuses a
 * module that differs (CORE_LOAD_FAILED).
 */

export const RECORD_SIZE: usize = 256;

// Record fields: offset and length in bytes. sid ‖ merchant ‖ amount are contiguous (the cryptogram MACs
// them in place), and so are merchant ‖ amount (kTxn's info). Bytes 252..255 are zero.
export const PAN_LENGTH: usize = 16; // ASCII digits
export const BASIC_KEY_LENGTH: usize = 32;
export const TAG_LENGTH: usize = 16;
export const KEK: usize = 0;
export const KEK_LENGTH: usize = 32;
export const HDR: usize = 32;
export const HDR_LENGTH: usize = 8;
export const N1: usize = 40;
export const N1_LENGTH: usize = 12;
export const C1: usize = 52; // encrypted PAN ‖ tag1
export const C1_LENGTH: usize = PAN_LENGTH + TAG_LENGTH;
export const N2: usize = 84;
export const N2_LENGTH: usize = 12;
export const C2: usize = 96; // encrypted basic key ‖ tag2
export const C2_LENGTH: usize = BASIC_KEY_LENGTH + TAG_LENGTH;
export const STORED_BK: usize = 144;
export const STORED_BK_LENGTH: usize = BASIC_KEY_LENGTH;
export const STORED_PVV: usize = 176;
export const STORED_PVV_LENGTH: usize = 32;
export const PIN: usize = 208;
export const PIN_LENGTH: usize = 4; // ASCII digits
export const SID: usize = 212;
export const SID_LENGTH: usize = 16;
export const MERCHANT: usize = 228;
export const MERCHANT_LENGTH: usize = 16;
export const AMOUNT: usize = 244;
export const AMOUNT_LENGTH: usize = 8; // u64 big-endian

// The code record (dvd1CodeBatch: a wallet's one-time code, docs/card-payload.md §Payload v2): RECORD_SIZE bytes
// whose card-row and payment half (STORED_BK .. AMOUNT, above) is the PIN record's, and whose payload half holds
// the code's 41 bytes as scanned (signed ‖ mac), the card's PAN (unwrapped by the worker) and a flag: 1 when the
// PIN was taken too (checked against STORED_PVV), 0 when the code stands in for it. Bytes 41..47, 65..143 and
// 252..255 are zero.
export const CODE_SIGNED: usize = 0; // version ‖ enrolment id ‖ step ‖ counter: what the mac covers
export const CODE_SIGNED_LENGTH: usize = 25;
export const CODE_ENROLMENT_ID: usize = CODE_SIGNED + 1; // inside the signed bytes
export const ENROLMENT_ID_LENGTH: usize = 16;
export const CODE_MAC: usize = 25;
export const CODE_MAC_LENGTH: usize = 16;
export const CODE_PAN: usize = 48;
export const CODE_PAN_LENGTH: usize = PAN_LENGTH;
export const CODE_WITH_PIN: usize = 64;
export const CODE_WITH_PIN_LENGTH: usize = 1;
export const WALLET_KEY_LENGTH: usize = 32;

// Results: dvd1Batch and dvd1CodeBatch write one cryptogram per record, dvd1OpenBatch one PAN ‖ basic key,
// dvd1EnrolBatch one wallet key ‖ PAN.
export const CRYPTOGRAM_SIZE: usize = 32;
export const OPENED_SIZE: usize = PAN_LENGTH + BASIC_KEY_LENGTH;
export const OPENED_PAN: usize = 0;
export const OPENED_BASIC_KEY: usize = PAN_LENGTH;
export const ENROLLED_SIZE: usize = WALLET_KEY_LENGTH + PAN_LENGTH;
export const ENROLLED_WALLET_KEY: usize = 0;
export const ENROLLED_PAN: usize = WALLET_KEY_LENGTH;

// Status bits of a record; 0 = every check passed.
export const STATUS_PAN_TAG: u32 = 1;
export const STATUS_KEY_TAG: u32 = 2;
export const STATUS_LUHN: u32 = 4;
export const STATUS_BASIC_KEY: u32 = 8;
export const STATUS_PVV: u32 = 16;
export const STATUS_CODE_MAC: u32 = 128; // code records: the code's mac (or version byte) does not verify

// Labels: kPin's whole HKDF info, the prefix of kTxn's ("scanpay/v1/pin", "scanpay/v1/txn"), the prefix of the
// wallet key's ("scanpay/v2/wallet-key", then the enrolment id) and the code MAC's ("scanpay/v2/code\n").
export const LABEL_PIN: usize = memory.data<u8>([0x73, 0x63, 0x61, 0x6e, 0x70, 0x61, 0x79, 0x2f, 0x76, 0x31, 0x2f, 0x70, 0x69, 0x6e]);
export const LABEL_PIN_LENGTH: usize = 14;
export const LABEL_TXN: usize = memory.data<u8>([0x73, 0x63, 0x61, 0x6e, 0x70, 0x61, 0x79, 0x2f, 0x76, 0x31, 0x2f, 0x74, 0x78, 0x6e]);
export const LABEL_TXN_LENGTH: usize = 14;
export const LABEL_WALLET_KEY: usize = memory.data<u8>([
  0x73, 0x63, 0x61, 0x6e, 0x70, 0x61, 0x79, 0x2f, 0x76, 0x32, 0x2f, 0x77, 0x61, 0x6c, 0x6c, 0x65, 0x74, 0x2d, 0x6b, 0x65, 0x79,
]);
export const LABEL_WALLET_KEY_LENGTH: usize = 21;
export const LABEL_CODE: usize = memory.data<u8>([0x73, 0x63, 0x61, 0x6e, 0x70, 0x61, 0x79, 0x2f, 0x76, 0x32, 0x2f, 0x63, 0x6f, 0x64, 0x65, 0x0a]);
export const LABEL_CODE_LENGTH: usize = 16;
