/**
 * The crypto engine beside the card verifier (verifier.ts): where the issuer keys live and the DVD-1 work
 * runs. The gateway's worker pool (gateway/pool) and the node:crypto baseline (bench/baseline) implement
 * it; CardCrypto (card-crypto.ts) is the work itself, on whichever thread holds the keys. The caller hands
 * over ciphertexts and stored rows and gets verdict material back: never an issuer key, a clear basic key
 * or a clear PAN.
 */

import { DVD1_STATUS } from '../core/types.ts';
import type { ReceiptChainRequest, SignedReceipt } from './receipt-signing.ts';

/**
 * Status bits of an engine answer: the core's DVD-1 bits (BASIC_KEY also when the stored key would not
 * unwrap), and the state of the issuer key the payload names (its payload was opened under a dummy key).
 */
export const CARD_STATUS = { ...DVD1_STATUS, KEY_UNKNOWN: 32, KEY_RETIRED: 64 } as const;

/** S22: what opening a scanned payload tells. `card`, `last4` and `basicKeyCheck` are set only when status is 0. */
export interface CardOpening {
  status: number; // OR of CARD_STATUS bits (PAN_TAG, KEY_TAG, LUHN, KEY_UNKNOWN, KEY_RETIRED)
  card: string | null; // card token (IssuerKeyRing.cardToken of the PAN)
  last4: string | null;
  basicKeyCheck: Uint8Array | null; // IssuerKeyRing.basicKeyCheck of the decrypted basic key, for the card row's
}

/**
 * S25: one counted PIN attempt, with the card row's stored secrets as they are at rest. Its values passed
 * their checks at their boundaries (the frame schemas and the store, by protocol/values.ts); an engine
 * writes them into a DVD-1 record as they are (card-batch.ts), without checking them again.
 */
export interface PinCheck {
  payload: Uint8Array; // the 112 payload bytes kept on the session
  card: string; // card token: the wrapped basic key's AAD
  wrappedBasicKey: Uint8Array;
  pvv: Uint8Array;
  pin: string; // 4 digits
  sessionId: string; // 32 hex
  merchant: string; // at most 16 bytes of UTF-8
  amount: number; // minor units
}

export interface PinChecked {
  status: number; // OR of CARD_STATUS bits; 0: every check passed
  cryptogram: Uint8Array | null; // 32 B, only when status is 0
}

/**
 * A wallet enrolment (issue 26): a counted PIN attempt exactly like PinCheck's (payload as scanned from the printed
 * card, the card row's stored secrets, the PIN), for the enrolment id the caller drew. No payment: no session,
 * merchant or amount.
 */
export interface EnrolmentCheck extends Pick<PinCheck, 'payload' | 'card' | 'wrappedBasicKey' | 'pvv' | 'pin'> {
  enrolmentId: string; // 32 lower-case hex (16 bytes from the CSPRNG)
}

export interface EnrolmentChecked {
  ok: boolean; // status === 0
  status: number; // OR of CARD_STATUS bits, as PinChecked's
  /** 32 B = HKDF(basic key, "", "scanpay/v2/wallet-key" ‖ enrolment id), only when ok: handed once to the browser, never stored. */
  walletKey: Uint8Array | null;
  /** 44 B, only when ok: the PAN wrapped under the storage key for this card and enrolment; the enrolment row keeps it (CodeCheck needs it). */
  wrappedPan: Uint8Array | null;
}

/**
 * A one-time code (card payload v2, core/one-time-code.ts) to verify against its enrolment and card: the code's
 * bytes as scanned, the card row's stored secrets and the enrolment row's wrapped PAN as they are at rest, and the
 * payment. `pin`: null when the code stands in for the PIN (amount ≤ the card's codeNoPinLimit), else the PIN the
 * holder entered, checked against `pvv` as in PinCheck. The step window and the counter are the store's to judge;
 * an engine checks the MAC (and the PIN).
 */
export interface CodeCheck {
  code: Uint8Array; // 41 B (codeBytes / scannedPayload)
  card: string; // card token of the enrolment
  wrappedBasicKey: Uint8Array;
  pvv: Uint8Array;
  wrappedPan: Uint8Array; // EnrolmentChecked.wrappedPan, as the enrolment row keeps it
  pin: string | null;
  sessionId: string; // 32 hex
  merchant: string; // at most 16 bytes of UTF-8
  amount: number; // minor units
}

export interface CodeChecked {
  ok: boolean; // status === 0
  /**
   * OR of CARD_STATUS bits: CODE_MAC (forged, altered or another enrolment's code, or the wrong basic key), PVV (the
   * PIN, when given), BASIC_KEY (the card row's basic key would not unwrap), LUHN (the enrolment's PAN would not unwrap).
   */
  status: number;
  cryptogram: Uint8Array | null; // 32 B, only when ok: the PIN record's cryptogram for this payment
}

export interface CardEngine {
  openCard(payload: Uint8Array): Promise<CardOpening>;
  checkPin(check: PinCheck): Promise<PinChecked>;
  /** A PIN attempt that enrols a wallet: checkPin's checks, and the wallet key and wrapped PAN when they all pass. */
  checkEnrolment(check: EnrolmentCheck): Promise<EnrolmentChecked>;
  /** Verifies a one-time code's MAC (and the PIN when given) in the DVD-1 code record; the cryptogram when it passes. */
  checkCode(check: CodeCheck): Promise<CodeChecked>;
  /**
   * Signs a segment of a merchant's receipt chain with the active receipt key (issuer/receipt-signing.ts), where
   * the key ring is: the receipts' texts and hashes, in order. RECEIPT_MALFORMED for a bad field.
   */
  signReceipts(request: ReceiptChainRequest): Promise<SignedReceipt[]>;
  /** Requests waiting for, or inside, the engine. */
  readonly queueDepth: number;
  /** Can take work now (for /readyz). */
  readonly ready: boolean;
  /** Load the key ring again from its file (rotation without a restart); resolves once new work uses it. */
  reloadKeys(): Promise<void>;
  close(): Promise<void>;
}
