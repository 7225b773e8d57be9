/**
 * Scanner WebSocket protocol v1 (docs/protocol.md): every frame is one JSON text message with `v: 1`
 * and a `type`. Schemas are TypeBox, compiled once; the gateway validates every inbound frame, and
 * the SDK validates every outbound one (and can check inbound ones).
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { AMOUNT_RULE, CURRENCY_PATTERN, MERCHANT_RULE, PIN_PATTERN, SESSION_ID_PATTERN } from './values.ts';

export const PROTOCOL_VERSION = 1;
/** WebSocket subprotocol a scanner offers at upgrade. */
export const SUBPROTOCOL = 'scanpay.v1';
/** Largest frame the gateway accepts (bytes); larger frames close nothing but get FRAME_TOO_LARGE. */
export const MAX_FRAME_BYTES = 2048;

const RequestId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' });
// the payment's values, as protocol/values.ts defines them (a rejection quotes the rule: `Expected string to match '^[0-9a-f]{32}$'`)
const SessionId = Type.String({ pattern: SESSION_ID_PATTERN });
const Amount = Type.Integer({ ...AMOUNT_RULE });
const Currency = Type.String({ pattern: CURRENCY_PATTERN });
const Merchant = Type.String({ ...MERCHANT_RULE });
const V = Type.Literal(PROTOCOL_VERSION);

// scanner → gateway
export const ScanFrame = Type.Object({
  v: V, type: Type.Literal('scan'), id: RequestId,
  payload: Type.String({ minLength: 1, maxLength: 256 }),
  amount: Amount, currency: Currency, merchant: Merchant,
}, { additionalProperties: false });
export const PinFrame = Type.Object({
  v: V, type: Type.Literal('pin'), id: RequestId, session: SessionId,
  pin: Type.String({ pattern: PIN_PATTERN }),
}, { additionalProperties: false });
export const PingFrame = Type.Object({ v: V, type: Type.Literal('ping'), id: RequestId }, { additionalProperties: false });
/** v1.1: where one of this scanner's sessions stands, and its result once decided (e.g. after a reconnect). */
export const StatusFrame = Type.Object({ v: V, type: Type.Literal('status'), id: RequestId, session: SessionId }, { additionalProperties: false });
export const ScannerFrame = Type.Union([ScanFrame, PinFrame, PingFrame, StatusFrame]);
export type ScanFrame = Static<typeof ScanFrame>;
export type PinFrame = Static<typeof PinFrame>;
export type PingFrame = Static<typeof PingFrame>;
export type StatusFrame = Static<typeof StatusFrame>;
export type ScannerFrame = Static<typeof ScannerFrame>;

// gateway → scanner
export const Receipt = Type.Object({
  session: SessionId, merchant: Merchant, amount: Amount, currency: Currency,
  maskedPan: Type.String(), outcome: Type.Union([Type.Literal('approved'), Type.Literal('declined')]),
  reason: Type.Union([Type.String(), Type.Null()]), at: Type.Integer(),
  mac: Type.String({ pattern: '^[0-9a-f]{64}$' }),
}, { additionalProperties: false });
export const WelcomeFrame = Type.Object({
  v: V, type: Type.Literal('welcome'), scanner: Type.String(),
  limits: Type.Object({ maxFrameBytes: Type.Integer(), framesPerSecond: Type.Integer(), burst: Type.Optional(Type.Integer()) }),
});
export const AuthRequiredFrame = Type.Object({
  v: V, type: Type.Literal('auth-required'), id: RequestId, session: SessionId, url: Type.String(),
  expiresAt: Type.Integer(), merchant: Merchant, amount: Amount, currency: Currency, maskedPan: Type.String(),
});
export const PaymentResultFrame = Type.Object({
  v: V, type: Type.Literal('payment-result'), id: Type.Union([RequestId, Type.Null()]), session: SessionId,
  outcome: Type.Union([Type.Literal('approved'), Type.Literal('declined')]),
  reason: Type.Union([Type.String(), Type.Null()]),
  attemptsLeft: Type.Optional(Type.Integer()),
  replayed: Type.Boolean(), receipt: Type.Union([Receipt, Type.Null()]),
});
export const ErrorFrame = Type.Object({
  v: V, type: Type.Literal('error'), id: Type.Union([Type.String(), Type.Null()]),
  code: Type.String(), message: Type.String(),
});
export const PongFrame = Type.Object({ v: V, type: Type.Literal('pong'), id: RequestId });
export const SessionStatusFrame = Type.Object({
  v: V, type: Type.Literal('session-status'), id: RequestId, session: SessionId,
  state: Type.Union([Type.Literal('open'), Type.Literal('pending'), Type.Literal('done')]),
  expiresAt: Type.Integer(),
  result: Type.Union([Type.Object({
    outcome: Type.Union([Type.Literal('approved'), Type.Literal('declined')]),
    reason: Type.Union([Type.String(), Type.Null()]),
    attemptsLeft: Type.Optional(Type.Integer()),
    receipt: Type.Union([Receipt, Type.Null()]),
  }), Type.Null()]),
});
export const GatewayFrame = Type.Union([WelcomeFrame, AuthRequiredFrame, PaymentResultFrame, ErrorFrame, PongFrame, SessionStatusFrame]);
export type Receipt = Static<typeof Receipt>;
export type WelcomeFrame = Static<typeof WelcomeFrame>;
export type AuthRequiredFrame = Static<typeof AuthRequiredFrame>;
export type PaymentResultFrame = Static<typeof PaymentResultFrame>;
export type ErrorFrame = Static<typeof ErrorFrame>;
export type PongFrame = Static<typeof PongFrame>;
export type SessionStatusFrame = Static<typeof SessionStatusFrame>;
export type GatewayFrame = Static<typeof GatewayFrame>;

/**
 * Codes a scanner may receive in `error` frames and `payment-result.reason`. Card legality is folded to
 * CARD_INVALID / CARD_BLOCKED so a scan cannot be used as an oracle (the audit log keeps the precise reason).
 */
export const SCANNER_CODES = [
  'BAD_FRAME', 'FRAME_TOO_LARGE', 'UNSUPPORTED_VERSION', 'RATE_LIMITED', 'BUSY', 'INTERNAL',
  'PAYLOAD_UNREADABLE', 'CARD_INVALID', 'CARD_BLOCKED', 'CARD_LOCKED',
  'SESSION_UNKNOWN', 'SESSION_EXPIRED', 'SESSION_USED', 'SESSION_WRONG_SCANNER',
  'PIN_WRONG', 'INSUFFICIENT_FUNDS', 'OVER_LIMIT', 'CURRENCY_MISMATCH', 'SHUTTING_DOWN',
] as const;
export type ScannerCode = (typeof SCANNER_CODES)[number];

type FrameCheck = ReturnType<typeof TypeCompiler.Compile>;
/** One compiled check per frame type, so a rejection names the field at fault (a union check only says "Expected union value"). */
const scannerFrameChecks: Record<string, FrameCheck> = {
  scan: TypeCompiler.Compile(ScanFrame), pin: TypeCompiler.Compile(PinFrame), ping: TypeCompiler.Compile(PingFrame),
  status: TypeCompiler.Compile(StatusFrame),
};
const gatewayFrameChecks: Record<string, FrameCheck> = {
  welcome: TypeCompiler.Compile(WelcomeFrame), 'auth-required': TypeCompiler.Compile(AuthRequiredFrame),
  'payment-result': TypeCompiler.Compile(PaymentResultFrame), error: TypeCompiler.Compile(ErrorFrame), pong: TypeCompiler.Compile(PongFrame),
  'session-status': TypeCompiler.Compile(SessionStatusFrame),
};

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
