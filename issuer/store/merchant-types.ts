/**
 * The store contract for merchants (docs/merchant-api.md): who takes payments, how their payments are captured,
 * and the API keys they call the merchant API with. A key is kept only as a keyed hash (merchant-keys.ts), under
 * its public id; a rotation gives the merchant a new key and lets the old ones live out a grace period.
 */
import type { PinEntry } from '../../protocol/values.ts';
import type { CaptureMethod } from './payment-types.ts';

export interface MerchantRecord {
  id: string; // the merchant id scans carry (protocol/values.ts Merchant)
  name: string;
  /** How its payments are captured unless a scan says otherwise. */
  captureMethod: CaptureMethod;
  /** A manual capture's hold is released by itself this long after the authorization (ms). */
  holdWindowMs: number;
  /**
   * Where its holders enter the PIN (protocol/values.ts PinEntry): `holder-device`, on their own phone only.
   * Absent: the gateway's default (SCANPAY_PIN_ENTRY; `scanner` unless set), as for records written before.
   */
  pinEntry?: PinEntry;
  createdAt: number;
}

export interface ApiKeyRecord {
  keyId: string; // 16 hex: the key's public half, written in the key itself
  merchant: string;
  hash: string; // 64 hex: the keyed hash of the whole key (merchant-keys.ts)
  createdAt: number;
  expiresAt: number | null; // null: valid until a rotation gives it an end
}

export interface MerchantStore {
  /** A new merchant with its first key; false (and nothing written) when the id exists. */
  createMerchant(merchant: MerchantRecord, key: ApiKeyRecord): Promise<boolean>;
  getMerchant(id: string): Promise<MerchantRecord | null>;
  listMerchants(): Promise<MerchantRecord[]>;
  /**
   * A new key for its merchant; each key of the merchant that is valid after `othersExpireAt` now ends then (the
   * rotation's grace). False (nothing written) for an unknown merchant.
   */
  rotateApiKey(key: ApiKeyRecord, othersExpireAt: number): Promise<boolean>;
  getApiKey(keyId: string): Promise<ApiKeyRecord | null>;
  /** A merchant's keys, oldest first (expired ones too, until they are forgotten a day after their end). */
  apiKeys(merchant: string): Promise<ApiKeyRecord[]>;
}
