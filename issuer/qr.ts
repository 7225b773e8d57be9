/**
 * The card payload as a QR code (qrcode) and back (jsQR). Base45 text goes in one alphanumeric segment,
 * at error-correction level M: a v1 payload (168 characters) needs QR version 7 (45×45 modules).
 * @example
 *   const png = await payloadQrPng(card.payloadText);
 *   decodeQrPng(png) === card.payloadText
 */
import QRCode from 'qrcode';
import * as jsqrModule from 'jsqr';
import { PNG } from 'pngjs';
import { ScanpayError } from '../core/errors.ts';

// jsqr is a UMD bundle: under Node ESM its function arrives as the CommonJS default.
const jsQR = jsqrModule.default as unknown as typeof jsqrModule.default.default;

export const QR_ERROR_CORRECTION = 'M';
const segments = (text: string): QRCode.QRCodeSegment[] => [{ data: text, mode: 'alphanumeric' }];

/** The QR version (1–40) the payload text needs. */
export function qrVersionOf(text: string): number {
  return QRCode.create(segments(text), { errorCorrectionLevel: QR_ERROR_CORRECTION }).version;
}

export function payloadQrPng(text: string): Promise<Buffer> {
  return QRCode.toBuffer(segments(text), { errorCorrectionLevel: QR_ERROR_CORRECTION, type: 'png', margin: 4, scale: 6 });
}

export function payloadQrSvg(text: string): Promise<string> {
  return QRCode.toString(segments(text), { errorCorrectionLevel: QR_ERROR_CORRECTION, type: 'svg', margin: 4 });
}

/** The text of the QR code in a PNG image; throws PAYLOAD_MALFORMED when the image holds none. */
export function decodeQrPng(png: Uint8Array): string {
  let image: PNG;
  try {
    image = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  } catch {
    throw new ScanpayError('PAYLOAD_MALFORMED', 'not a PNG image');
  }
  const found = jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength), image.width, image.height);
  if (!found) throw new ScanpayError('PAYLOAD_MALFORMED', 'no QR code found in the image');
  return found.data;
}
