/**
 * `scanpay/issuer`: issue and manage cards, hold the issuer key ring, open the card store.
 * @example
 *   import { Issuer, IssuerKeyRing, openStore } from 'scanpay/issuer';
 *   const issuer = new Issuer({ core: await loadCore(), store: await openStore(), keyRing: IssuerKeyRing.generate() });
 */
export * from './issuer.ts';
export * from './key-ring.ts';
export * from './store/index.ts';
export { PAYLOAD_SIZE, PAYLOAD_VERSION, parsePayload, payloadFromText, payloadToText, scannedPayload, type ScannedPayload } from './payload.ts';
export { maskPan } from './pan.ts';
export { QR_ERROR_CORRECTION, decodeQrPng, payloadQrPng, payloadQrSvg, qrVersionOf } from './qr.ts';
export { ScanpayBaseError, ScanpayError, isScanpayBaseError, isScanpayError, type ErrorCode, type ErrorLayer } from '../core/errors.ts';
