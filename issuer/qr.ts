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
import { PAYLOAD_TEXT_MAX, isBase45Text } from './payload.ts';

// jsqr is a UMD bundle: under Node ESM its function arrives as the CommonJS default.
const jsQR = jsqrModule.default as unknown as typeof jsqrModule.default.default;

export const QR_ERROR_CORRECTION = 'M';

/** What a type is, in a message: `a Uint8Array`, `a number`, `null`. */
const kindOf = (value: unknown): string =>
  value === null ? 'null' : value instanceof Uint8Array ? `a ${value.constructor.name} (bytes)` : typeof value === 'object' ? `a ${value.constructor?.name ?? 'object'}` : `a ${typeof value}`;

/**
 * The boundary check of every function here that takes payload text: a string of base45 characters (QR
 * alphanumeric mode), 1 to PAYLOAD_TEXT_MAX of them. Payload bytes are refused with the way to the text.
 */
function segments(fn: string, text: unknown): QRCode.QRCodeSegment[] {
  if (typeof text !== 'string') {
    const hint = text instanceof Uint8Array ? ' (for payload bytes, pass payloadToText(bytes))' : '';
    throw new ScanpayError('BAD_ARGUMENT', `${fn} takes the payload text, a string; got ${kindOf(text)}${hint}`);
  }
  if (text.length === 0 || text.length > PAYLOAD_TEXT_MAX || !isBase45Text(text)) {
    throw new ScanpayError('BAD_ARGUMENT', `${fn} takes payload text: 1 to ${PAYLOAD_TEXT_MAX} base45 characters (0-9, A-Z, space and $%*+-./:); got ${text.length} characters${isBase45Text(text) ? '' : ', not all base45'}`);
  }
  return [{ data: text, mode: 'alphanumeric' }];
}

/** The QR version (1–40) the payload text needs. */
export function qrVersionOf(text: string): number {
  return QRCode.create(segments('qrVersionOf', text), { errorCorrectionLevel: QR_ERROR_CORRECTION }).version;
}

/** The payload text as a QR code in a PNG image; rejects with BAD_ARGUMENT for anything but payload text. */
export async function payloadQrPng(text: string): Promise<Buffer> {
  return QRCode.toBuffer(segments('payloadQrPng', text), { errorCorrectionLevel: QR_ERROR_CORRECTION, type: 'png', margin: 4, scale: 6 });
}

/** The payload text as a QR code in an SVG document; rejects with BAD_ARGUMENT for anything but payload text. */
export async function payloadQrSvg(text: string): Promise<string> {
  return QRCode.toString(segments('payloadQrSvg', text), { errorCorrectionLevel: QR_ERROR_CORRECTION, type: 'svg', margin: 4 });
}

/**
 * The text of the QR code in a PNG image (the file's bytes): BAD_ARGUMENT for anything but a Uint8Array (a
 * Buffer is one), PAYLOAD_MALFORMED when the bytes are not a PNG or the image holds no QR code.
 */
export function decodeQrPng(png: Uint8Array): string {
  if (!(png instanceof Uint8Array)) {
    const hint = typeof png === 'string' ? ' (for a file, pass readFileSync(path))' : '';
    throw new ScanpayError('BAD_ARGUMENT', `decodeQrPng takes the PNG image's bytes, a Uint8Array; got ${kindOf(png)}${hint}`);
  }
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

/**
 * A receipt's text form (`spr1.…`, docs/receipts.md) as a QR code in an SVG document (byte mode: base64url is
 * not QR alphanumeric). BAD_ARGUMENT for anything but receipt text.
 */
export async function receiptQrSvg(text: string): Promise<string> {
  if (typeof text !== 'string' || !/^spr1\.[A-Za-z0-9_-]{1,400}$/.test(text)) throw new ScanpayError('BAD_ARGUMENT', `receiptQrSvg takes a receipt's text form (spr1.…); got ${kindOf(text)}`);
  return QRCode.toString([{ data: Buffer.from(text, 'latin1'), mode: 'byte' }], { errorCorrectionLevel: QR_ERROR_CORRECTION, type: 'svg', margin: 4 });
}

/** The same as a PNG image (`scanpay receipt qr`, tests). */
export async function receiptQrPng(text: string): Promise<Buffer> {
  if (typeof text !== 'string' || !/^spr1\.[A-Za-z0-9_-]{1,400}$/.test(text)) throw new ScanpayError('BAD_ARGUMENT', `receiptQrPng takes a receipt's text form (spr1.…); got ${kindOf(text)}`);
  return QRCode.toBuffer([{ data: Buffer.from(text, 'latin1'), mode: 'byte' }], { errorCorrectionLevel: QR_ERROR_CORRECTION, type: 'png', margin: 4, scale: 6 });
}
