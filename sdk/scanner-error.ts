/**
 * The one error type the scanner SDK rejects with. `code` is a protocol code from the gateway's `error`
 * frame (SCANNER_CODES, docs/protocol.md §Codes; `layer` 'protocol') or one of the client-side codes below
 * (`layer` 'sdk'). It is a ScanpayBaseError (core/errors.ts), like every other scanpay error.
 * @example
 *   try { await client.scan(req) } catch (e) { if (isScannerError(e, 'CARD_INVALID')) showRetry() }
 */
import { ScanpayBaseError } from '../core/errors.ts';
import { SCANNER_CODES, type ScannerCode } from '../protocol/messages.ts';

/**
 * TIMEOUT: no answer in time; CLOSED: the connection is gone for good (or never opened); UNAUTHORIZED: the
 * gateway refused the device token at upgrade (HTTP 401); DISCONNECTED: the connection dropped while this
 * request was on the wire, the client is reconnecting, and the request may or may not have been done —
 * send it again (a `scan` repeat is harmless; `pin` requests are resumed by the client instead). PAID_AT_SCAN:
 * `scan` was answered by a `payment-result` (a wallet's one-time code paid at once, protocol v1.6): the payment is
 * decided, do not scan again; `scanOrPay` resolves with it instead, and waitForResult(session) has it.
 */
export type ClientCode = 'TIMEOUT' | 'CLOSED' | 'UNAUTHORIZED' | 'DISCONNECTED' | 'PAID_AT_SCAN';
export type ScannerErrorCode = ScannerCode | ClientCode;

/** Codes after which sending the same request again (after a pause) is safe and may succeed. */
const RETRYABLE: ReadonlySet<ScannerErrorCode> = new Set(['DISCONNECTED', 'BUSY', 'RATE_LIMITED', 'SHUTTING_DOWN']);

const isScannerCode = (code: string): code is ScannerCode => (SCANNER_CODES as readonly string[]).includes(code);

export class ScannerError extends ScanpayBaseError<ScannerErrorCode> {
  constructor(code: ScannerErrorCode, message: string) {
    super(isScannerCode(code) ? 'protocol' : 'sdk', code, message);
    this.name = 'ScannerError';
  }

  /** True when the same request may simply be sent again (docs/protocol.md §7, §8). */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

export function isScannerError(e: unknown, code?: ScannerErrorCode): e is ScannerError {
  return e instanceof ScannerError && (code === undefined || e.code === code);
}

/** A code from an error frame; one this SDK does not know (a newer gateway) becomes INTERNAL, named in the message. */
export function scannerErrorFromFrame(code: string, message: string): ScannerError {
  if (isScannerCode(code)) return new ScannerError(code, message);
  return new ScannerError('INTERNAL', `[${code}] ${message}`);
}
