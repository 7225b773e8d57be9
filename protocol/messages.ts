/**
 * Scanner WebSocket protocol v1 (docs/protocol.md): every frame is one JSON text message with `v: 1`
 * and a `type`. The frames are declared in frames.ts; here they are parsed and checked against their TypeBox
 * schemas (frame-schemas.ts, compiled once). The gateway validates every inbound frame, and the SDK validates
 * every outbound one (and can check inbound ones).
 */
import { gatewayFrameChecks, scannerFrameChecks, type FrameCheck } from './frame-schemas.ts';
import { PROTOCOL_VERSION, type GatewayFrame, type ScannerFrame } from './frames.ts';

export * from './frames.ts';

/** WebSocket subprotocol a scanner offers at upgrade. */
export const SUBPROTOCOL = 'scanpay.v1';
/** Largest frame the gateway accepts (bytes); larger frames close nothing but get FRAME_TOO_LARGE. */
export const MAX_FRAME_BYTES = 2048;
/** Largest frame the gateway reads at all: up to it a larger frame gets FRAME_TOO_LARGE (with its id when one can be read); past it the connection is closed (1009). */
export const HARD_FRAME_BYTES = MAX_FRAME_BYTES * 8;

/**
 * Why a payment whose PIN was right is declined, in the order the issuer's rules test them (issuer/payment.ts
 * DECLINE_RULES gives each its rule; the auth page its words): the scanner sees the reason as it is.
 * STATIC_QR_REFUSED: the card's policy refuses its printed QR (over its static-QR limit, or a wallet is enrolled);
 * a scan gets it as an error at once, before any PIN (docs/security.md, "The wallet").
 */
export const DECLINE_CODES = ['STATIC_QR_REFUSED', 'CURRENCY_MISMATCH', 'OVER_LIMIT', 'INSUFFICIENT_FUNDS'] as const;
export type DeclineCode = (typeof DECLINE_CODES)[number];

/**
 * Codes a scanner may receive in `error` frames and `payment-result.reason`. Card legality is folded to
 * CARD_INVALID / CARD_BLOCKED so a scan cannot be used as an oracle (the audit log keeps the precise reason).
 */
export const SCANNER_CODES = [
  'BAD_FRAME', 'FRAME_TOO_LARGE', 'UNSUPPORTED_VERSION', 'RATE_LIMITED', 'BUSY', 'INTERNAL',
  'PAYLOAD_UNREADABLE', 'CARD_INVALID', 'CARD_BLOCKED', 'CARD_LOCKED',
  'SESSION_UNKNOWN', 'SESSION_EXPIRED', 'SESSION_USED', 'SESSION_WRONG_SCANNER',
  'PIN_WRONG', ...DECLINE_CODES, 'SHUTTING_DOWN', 'PIN_LIMIT', 'REVERSED', 'DEVICE_REVOKED', 'MERCHANT_MISMATCH',
  'PIN_ENTRY_HOLDER_DEVICE', 'CODE_STALE',
] as const;
export type ScannerCode = (typeof SCANNER_CODES)[number];

/**
 * Application close codes (docs/protocol.md §6). DEVICE_REVOKED is final: the device was revoked and every
 * gateway refuses it (a new token gets HTTP 401). REAUTHENTICATE: the connection reached the gateway's maximum
 * age; connect again with a fresh token (a revoked device then gets 401).
 */
export const CLOSE_DEVICE_REVOKED = { code: 4003, reason: 'device revoked' } as const;
export const CLOSE_REAUTHENTICATE = { code: 4001, reason: 'connection age limit reached: reconnect with a fresh token' } as const;

/** A rejected frame carries its request id when one could be read, so the sender can match the error. */
export type ParseResult<T> = { ok: true; frame: T } | { ok: false; code: ScannerCode; message: string; id: string | null };

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
function idOf(value: Record<string, unknown>): string | null {
  return typeof value.id === 'string' && REQUEST_ID.test(value.id) ? value.id : null;
}

/** `"id":"…"` in a frame's text: bounded (no backtracking across the frame), the first one wins. */
const ID_IN_TEXT = /"id"\s*:\s*"([A-Za-z0-9._:-]{1,64})"/;

/**
 * The request id of a frame too large to parse as a request (over MAX_FRAME_BYTES; the gateway looks only up
 * to 16 KiB): the first `"id":"…"` in its text, or null. In a malformed frame it may be a nested field's;
 * echoing it tells the scanner no more than which of its own frames was refused.
 */
export function requestIdInText(text: string): string | null {
  return ID_IN_TEXT.exec(text)?.[1] ?? null;
}

/** Messages name the path and the rule broken (TypeBox does not echo values), never the frame's content. */
function parseWith<T>(text: string, checks: Record<string, FrameCheck>): ParseResult<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: 'BAD_FRAME', message: 'frame is not JSON', id: null };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'BAD_FRAME', message: 'frame must be a JSON object', id: null };
  }
  const { v, type } = value as Record<string, unknown>;
  const id = idOf(value as Record<string, unknown>);
  if (typeof v === 'number' && v !== PROTOCOL_VERSION) {
    return { ok: false, code: 'UNSUPPORTED_VERSION', message: `this gateway speaks protocol v${PROTOCOL_VERSION}`, id };
  }
  const check = typeof type === 'string' && Object.hasOwn(checks, type) ? checks[type] : undefined;
  if (!check) return { ok: false, code: 'BAD_FRAME', message: `/type: expected one of ${Object.keys(checks).join(', ')}`, id };
  if (!check.Check(value)) {
    const first = [...check.Errors(value)][0];
    return { ok: false, code: 'BAD_FRAME', message: first ? `${first.path || '/'}: ${first.message}` : 'frame does not match the protocol', id };
  }
  return { ok: true, frame: value as T };
}

/** Parses and validates one scanner frame (the text must already be within MAX_FRAME_BYTES). */
export function parseScannerFrame(text: string): ParseResult<ScannerFrame> {
  return parseWith<ScannerFrame>(text, scannerFrameChecks);
}

export function parseGatewayFrame(text: string): ParseResult<GatewayFrame> {
  return parseWith<GatewayFrame>(text, gatewayFrameChecks);
}
