/**
 * The holder URL as a QR code, for a scanner whose merchant takes the PIN on the holder's own phone (protocol
 * v1.4, `auth-required.pinEntry` `holder-device`; docs/protocol.md §9): the scanner shows this code, the holder
 * scans it with their phone and enters the PIN there, and the scanner waits for the pushed result. The URL carries
 * the session's page token: show it to the holder only, never log or forward it.
 * @example
 *   const auth = await client.scan(request);
 *   if (auth.holderUrl) showOnScreen(await holderQrSvg(auth.holderUrl));   // or holderQrTerminal() in a terminal
 */
import QRCode from 'qrcode';

/** Error correction M (15 %): a page URL of about 120 characters fits QR version 6 or 7, easy for a phone camera. */
const QR_OPTIONS = { errorCorrectionLevel: 'M', margin: 4 } as const;
const MAX_URL_CHARS = 2_048;

/** The boundary check: an absolute http(s) URL, as the gateway sends it. */
function checkedUrl(fn: string, url: unknown): string {
  if (typeof url !== 'string' || url.length === 0 || url.length > MAX_URL_CHARS) throw new RangeError(`${fn} takes the holder URL, a string of 1 to ${MAX_URL_CHARS} characters`);
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new RangeError(`${fn} takes an absolute URL (auth-required.url)`);
  }
  if (protocol !== 'https:' && protocol !== 'http:') throw new RangeError(`${fn} takes an http(s) URL`);
  return url;
}

/** The holder URL as a QR code in an SVG document (for a scanner's screen or a web view). */
export function holderQrSvg(holderUrl: string): Promise<string> {
  return QRCode.toString(checkedUrl('holderQrSvg', holderUrl), { ...QR_OPTIONS, type: 'svg' });
}

/** The holder URL as a QR code drawn with Unicode half blocks and ANSI colours, for a terminal (`scanpay scan`). */
export function holderQrTerminal(holderUrl: string): Promise<string> {
  return QRCode.toString(checkedUrl('holderQrTerminal', holderUrl), { ...QR_OPTIONS, type: 'terminal', small: true });
}
