/**
 * The one error type the SDK's MerchantClient rejects with. `code` is the merchant API's error code from the
 * answer (MERCHANT_API_ERRORS, docs/merchant-api.md §Errors; `layer` 'protocol') or one of the client's own
 * (`layer` 'sdk'). It is a ScanpayBaseError (core/errors.ts), like every other scanpay error.
 * @example
 *   try { await merchant.createRefund(params) } catch (e) { if (isMerchantApiError(e, 'AMOUNT_TOO_LARGE')) … }
 */
import { ScanpayBaseError } from '../core/errors.ts';
import { isMerchantApiCode, type MerchantApiCode } from '../protocol/merchant-api.ts';

/** NETWORK: no answer came (the connection failed, or timed out); BAD_RESPONSE: an answer that is not the API's. */
export type MerchantClientCode = 'NETWORK' | 'BAD_RESPONSE';
export type MerchantApiErrorCode = MerchantApiCode | MerchantClientCode;

export class MerchantApiError extends ScanpayBaseError<MerchantApiErrorCode> {
  /** The HTTP status of the answer; null when none came (NETWORK). */
  readonly status: number | null;
  /** The parameter at fault, when the API named one. */
  readonly param: string | undefined;
  /** The answer was one the API had given before for the same Idempotency-Key (Idempotent-Replayed). */
  readonly replayed: boolean;

  constructor(code: MerchantApiErrorCode, message: string, status: number | null, param?: string, replayed = false) {
    super(isMerchantApiCode(code) ? 'protocol' : 'sdk', code, message);
    this.name = 'MerchantApiError';
    this.status = status;
    this.param = param;
    this.replayed = replayed;
  }
}

export function isMerchantApiError(e: unknown, code?: MerchantApiErrorCode): e is MerchantApiError {
  return e instanceof MerchantApiError && (code === undefined || e.code === code);
}
