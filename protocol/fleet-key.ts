/**
 * The scanner fleet key: 32 bytes from which every device secret is derived (protocol/scanner-token.ts,
 * docs/protocol.md §Authentication). The gateway verifies tokens with it; `scanpay scanner provision`
 * derives a device's secret from it. Stored as 64 hex digits, in a file (mode 0600) or in the environment.
 * @example
 *   const fleetKey = loadFleetKey({ file: 'fleet.key' });   // or SCANPAY_FLEET_KEY_FILE / SCANPAY_FLEET_KEY
 *   const secret = deviceSecret(fleetKey, 'till-0042');
 */
import { readFileSync } from 'node:fs';
import { ScanpayError } from '../core/errors.ts';

export const FLEET_KEY_BYTES = 32;
const HEX_KEY = /^[0-9a-fA-F]{64}$/;

function invalid(detail: string): ScanpayError {
  return new ScanpayError('FLEET_KEY_INVALID', detail);
}

/** 64 hex digits (surrounding whitespace ignored) → 32 bytes; throws FLEET_KEY_INVALID without echoing the text. */
export function parseFleetKey(text: string, source: string): Uint8Array {
  const hex = text.trim();
  if (!HEX_KEY.test(hex)) throw invalid(`${source} must hold ${FLEET_KEY_BYTES * 2} hex digits`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/**
 * The fleet key from `file`, else the file named by SCANPAY_FLEET_KEY_FILE, else the hex in SCANPAY_FLEET_KEY.
 * Throws FLEET_KEY_INVALID when none is set, the file cannot be read, or the content is not 64 hex digits.
 */
export function loadFleetKey(opts: { file?: string; env?: NodeJS.ProcessEnv } = {}): Uint8Array {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.SCANPAY_FLEET_KEY_FILE;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw invalid(`cannot read fleet key file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    return parseFleetKey(text, `fleet key file ${file}`);
  }
  if (env.SCANPAY_FLEET_KEY) return parseFleetKey(env.SCANPAY_FLEET_KEY, 'SCANPAY_FLEET_KEY');
  throw invalid('no fleet key: pass --fleet-key-file FILE, or set SCANPAY_FLEET_KEY_FILE or SCANPAY_FLEET_KEY (64 hex digits)');
}
