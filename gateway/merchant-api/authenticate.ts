/**
 * Who calls the merchant API (docs/merchant-api.md §Authentication): `Authorization: Bearer <API key>`. A key's
 * shape is checked first (no store read for anything that cannot be a key), then its record is read by the key's
 * public id and its keyed hash compared in constant time (issuer/merchant-keys.ts), with the hash key derived
 * from the gateway's fleet key and wiped by close(). Every attempt takes a unit of its caller address's failure
 * budget first (AddressLimiter, in memory) and gives it back when the key is good, so an address that keeps
 * failing is answered 429 from memory, without a store read or a hash.
 * @example
 *   const who = await auth.authenticate(req.authorization, req.remoteAddress);
 *   if (!who.ok) return apiError(who.code);
 */
import { apiKeyHashKey, apiKeyId, verifyApiKey } from '../../issuer/merchant-keys.ts';
import type { MerchantStore, RateLimit } from '../../issuer/store/index.ts';
import { AddressLimiter, callerKey } from '../address-limiter.ts';

export type Authentication = { ok: true; merchant: string } | { ok: false; code: 'UNAUTHENTICATED' | 'RATE_LIMITED' };

/** `Bearer <token>` (the scheme in any case, RFC 9110 §11.1): the token, or null. */
function bearerToken(authorization: string): string | null {
  return /^bearer +([^ ]+) *$/i.exec(authorization)?.[1] ?? null;
}

export class MerchantAuth {
  readonly #hashKey: Uint8Array;
  readonly #failures: AddressLimiter;

  constructor(private readonly merchants: MerchantStore, fleetKey: Uint8Array, failures: RateLimit, private readonly now: () => number = Date.now) {
    this.#hashKey = apiKeyHashKey(fleetKey);
    this.#failures = new AddressLimiter(failures);
  }

  /** The merchant whose valid key the request carries; else UNAUTHENTICATED, or RATE_LIMITED past the address's budget. */
  async authenticate(authorization: string, remoteAddress: string): Promise<Authentication> {
    const caller = callerKey(remoteAddress);
    if (!this.#failures.take(caller)) return { ok: false, code: 'RATE_LIMITED' };
    const key = bearerToken(authorization);
    const keyId = key === null ? null : apiKeyId(key);
    if (key === null || keyId === null) return { ok: false, code: 'UNAUTHENTICATED' };
    let merchant: string | null;
    try {
      merchant = verifyApiKey(this.#hashKey, key, await this.merchants.getApiKey(keyId), this.now());
    } catch (e) {
      this.#failures.refund(caller); // the store failed, not the caller
      throw e;
    }
    if (merchant === null) return { ok: false, code: 'UNAUTHENTICATED' };
    this.#failures.refund(caller);
    return { ok: true, merchant };
  }

  /** Wipes the hash key: no key verifies after this. */
  close(): void {
    this.#hashKey.fill(0);
  }
}
