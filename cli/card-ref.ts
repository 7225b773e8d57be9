/**
 * What a card argument names: a QR image (PNG), a payload text file (as `npm start` writes
 * demo-cards/card-N.txt), the payload text itself, or — for card commands — the PAN. A file that does not
 * exist is reported as missing, never sent on as payload text.
 * @example
 *   const ref = await readCardArgument('demo-cards/card-1.txt');   // { kind: 'payload', text: '…', source: 'file' }
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { ScanpayError } from '../core/errors.ts';
import { isPanShaped } from '../issuer/pan.ts';
import { PAYLOAD_TEXT_MAX } from '../issuer/payload.ts';
import { decodeQrPng } from '../issuer/qr.ts';
import { noSuchFile, usageError } from './errors.ts';

export type PayloadArgument = { kind: 'payload'; text: string; source: 'text' | 'file' | 'qr' };
export type CardArgument = { kind: 'pan'; pan: string } | PayloadArgument;

// Payload text is base45 (RFC 9285): digits, capitals and ` $%*+-./:`. Anything else can only be a path.
const BASE45 = /^[0-9A-Z $%*+\-./:]+$/;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
// A payload file holds one line; a file much larger than that is not one (and is not read whole).
const MAX_TEXT_FILE = PAYLOAD_TEXT_MAX + 2;

async function fileKind(path: string): Promise<'file' | 'directory' | 'other' | null> {
  try {
    const s = await stat(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'other';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}

/** The payload in a file: a PNG is decoded as a QR image; otherwise the file must hold the payload text. */
async function payloadOfFile(path: string): Promise<PayloadArgument> {
  const bytes = await readFile(path);
  if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return { kind: 'payload', text: decodeQrPng(bytes), source: 'qr' };
  const ext = extname(path).toLowerCase();
  if (ext === '.png') throw new ScanpayError('PAYLOAD_MALFORMED', `${path} is not a PNG image`);
  if (ext === '.svg') throw usageError(`${path}: SVG QR codes cannot be read back; pass the PNG, the .txt payload file or the payload text`);
  const text = bytes.length <= MAX_TEXT_FILE ? bytes.toString('utf8').replace(/\r?\n$/, '') : '';
  if (!BASE45.test(text)) throw new ScanpayError('PAYLOAD_MALFORMED', `${path} is neither a PNG QR image nor a one-line payload text file`);
  return { kind: 'payload', text, source: 'file' };
}

/**
 * Resolves a card argument. An existing path wins (so a file named like a payload is still read);
 * otherwise a PAN (when `pan` is allowed) or base45 text is taken as given, and anything else is a
 * missing file.
 */
export async function readCardArgument(arg: string, opts: { pan: false }): Promise<PayloadArgument>;
export async function readCardArgument(arg: string, opts: { pan: true }): Promise<CardArgument>;
export async function readCardArgument(arg: string, opts: { pan: boolean }): Promise<CardArgument> {
  const kind = arg.length <= 4096 ? await fileKind(arg) : null;
  if (kind === 'file') return payloadOfFile(arg);
  if (kind === 'directory') throw usageError(`${arg} is a directory, not a card`);
  if (kind === 'other') throw usageError(`${arg} is not a regular file`);
  if (opts.pan && isPanShaped(arg)) return { kind: 'pan', pan: arg };
  if (BASE45.test(arg)) return { kind: 'payload', text: arg, source: 'text' };
  throw noSuchFile(arg.length > 80 ? `${arg.slice(0, 80)}…` : arg, opts.pan
    ? ' (and it is not a card number or payload text)'
    : ' (and it is not payload text)');
}
