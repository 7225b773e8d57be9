/**
 * What the wallet's flows need of the crypto engine beyond a payment's (issuer/card-engine.ts): an enrolment's PIN
 * check, which also derives the wallet key (HKDF of the stored basic key and the enrolment id, WALLET-CONTRACT)
 * where the basic key is unwrapped, in the worker, and only when the PIN is right.
 */
import type { PinCheck } from '../../issuer/card-engine.ts';

export interface EnrolPinCheck extends PinCheck {
  enrolmentId: string; // 32 hex: the HKDF info's 16 bytes
}

export interface EnrolPinChecked {
  status: number; // OR of CARD_STATUS bits; 0: the PIN and the card passed
  walletKey: Uint8Array | null; // 32 B, only when status is 0; the caller wipes it once sent
}

export interface WalletEngine {
  enrolPin(check: EnrolPinCheck): Promise<EnrolPinChecked>;
}
