/**
 * The scanpay SDK: connect a scanner to the gateway over the WebSocket protocol v1 (docs/protocol.md) and walk a
 * payment; and, for merchants, a typed client of the merchant API (docs/merchant-api.md) and the check of a
 * webhook's signature (verifyWebhook, docs/webhooks.md). Everything a scanner or
 * merchant integration needs is exported here.
 * @example
 *   import { MerchantClient, ScannerClient, isScannerError } from 'scanpay/sdk';
 *   const client = await ScannerClient.connect({ url, deviceId, secret });
 *   const merchant = new MerchantClient({ url: merchantUrl, apiKey });
 */
export { ScannerClient, type ConnectionState, type ScannerClientOptions, type ScanRequest, type ScanSession, type ScanAnswer, type PushFrame } from './scanner-client.ts';
export { holderQrSvg, holderQrTerminal } from './holder-qr.ts';
export type { ReconnectOptions } from './backoff.ts';
export { ScannerError, isScannerError, type ClientCode, type ScannerErrorCode } from './scanner-error.ts';
export { ScanpayBaseError, isScanpayBaseError, type ErrorLayer } from '../core/errors.ts';
export {
  MAX_MINOR_UNITS, MERCHANT_BYTES, PIN_ENTRIES, isAmount, isCurrency, isMerchant, isPin, isPinEntry, isSessionId,
  type Amount, type Currency, type Merchant, type Pin, type PinEntry, type SessionId,
} from '../protocol/values.ts';
export {
  MAX_FRAME_BYTES, PROTOCOL_VERSION, SCANNER_CODES, SUBPROTOCOL, parseGatewayFrame,
  type AuthRequiredFrame, type ErrorFrame, type GatewayFrame, type ParseResult, type PaymentResultFrame, type PingFrame,
  type PinFrame, type PongFrame, type Receipt, type ReversalAction, type ReversalFrame, type ReverseFrame, type ScanFrame, type ScannerCode, type ScannerFrame, type SessionStatusFrame,
  type StatusFrame, type WelcomeFrame,
} from '../protocol/messages.ts';
export { TOKEN_WINDOW_S, isDeviceId, signScannerToken } from '../protocol/scanner-token.ts';
export {
  DEFAULT_TOLERANCE_S, EVENT_ID_HEADER, SIGNATURE_HEADER, signatureHeader, verifyWebhook, webhookSignature, type VerifyOptions, type WebhookCheck,
} from '../protocol/webhook-signature.ts';
export { MerchantClient, type MerchantClientOptions, type MerchantRequestOptions } from './merchant-client.ts';
export { MerchantApiError, isMerchantApiError, type MerchantApiErrorCode, type MerchantClientCode } from './merchant-api-error.ts';
export {
  MERCHANT_API_CODES, MERCHANT_API_ERRORS, MERCHANT_API_VERSION, isMerchantApiCode,
  type ApiErrorBody, type ApiLedgerEntry, type ApiList, type ApiPayment, type ApiPaymentStatus, type ApiRefund, type ApiReversal,
  type ApiReversalAction, type CaptureParams, type ListParams, type ListRefundsParams, type MerchantApiCode, type RefundParams,
  type ApiEvent, type ApiEventType, type ApiWebhookEndpoint, type ApiWebhookEndpointWithSecret, type ApiDeletedWebhookEndpoint, type ApiRedelivery,
  type ListEventsParams, type RotateSecretParams, type WebhookEndpointParams,
} from '../protocol/merchant-api.ts';
