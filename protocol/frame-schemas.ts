/**
 * The TypeBox schemas of protocol v1's frames (docs/protocol.md), compiled once into one check per frame type.
 * Internal: messages.ts parses with these checks and declares the frames as plain interfaces, so the package's
 * public declarations name no TypeBox type. Each schema's static type is held equal to its interface below, at
 * compile time: a field changed in one and not the other fails the typecheck.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import * as Frames from './frames.ts';
import { AMOUNT_RULE, CURRENCY_PATTERN, MERCHANT_RULE, PIN_PATTERN, SESSION_ID_PATTERN } from './values.ts';

const PROTOCOL_VERSION = 1;
const RequestId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' });
// the payment's values, as protocol/values.ts defines them (a rejection quotes the rule: `Expected string to match '^[0-9a-f]{32}$'`)
const SessionId = Type.String({ pattern: SESSION_ID_PATTERN });
const Amount = Type.Integer({ ...AMOUNT_RULE });
const Currency = Type.String({ pattern: CURRENCY_PATTERN });
const Merchant = Type.String({ ...MERCHANT_RULE });
const V = Type.Literal(Frames.PROTOCOL_VERSION);

// scanner → gateway
const ScanFrame = Type.Object({
  v: V, type: Type.Literal('scan'), id: RequestId,
  payload: Type.String({ minLength: 1, maxLength: 256 }),
  amount: Amount, currency: Currency, merchant: Merchant,
  capture: Type.Optional(Type.Union([Type.Literal('automatic'), Type.Literal('manual')])),
}, { additionalProperties: false });
const PinFrame = Type.Object({
  v: V, type: Type.Literal('pin'), id: RequestId, session: SessionId,
  pin: Type.String({ pattern: PIN_PATTERN }),
}, { additionalProperties: false });
const PingFrame = Type.Object({ v: V, type: Type.Literal('ping'), id: RequestId }, { additionalProperties: false });
/** v1.1: where one of this scanner's sessions stands, and its result once decided (e.g. after a reconnect). */
const StatusFrame = Type.Object({ v: V, type: Type.Literal('status'), id: RequestId, session: SessionId }, { additionalProperties: false });
/** v1.3: reverse the payment of one of this scanner's sessions whose answer was lost. */
const ReverseFrame = Type.Object({ v: V, type: Type.Literal('reverse'), id: RequestId, session: SessionId }, { additionalProperties: false });
const ScannerFrame = Type.Union([ScanFrame, PinFrame, PingFrame, StatusFrame, ReverseFrame]);

// gateway → scanner
const Receipt = Type.Object({
  session: SessionId, merchant: Merchant, amount: Amount, currency: Currency,
  maskedPan: Type.String(), outcome: Type.Union([Type.Literal('approved'), Type.Literal('declined')]),
  reason: Type.Union([Type.String(), Type.Null()]), at: Type.Integer(),
  mac: Type.String({ pattern: '^[0-9a-f]{64}$' }),
}, { additionalProperties: false });
const WelcomeFrame = Type.Object({
  v: V, type: Type.Literal('welcome'), scanner: Type.String(),
  limits: Type.Object({ maxFrameBytes: Type.Integer(), framesPerSecond: Type.Integer(), burst: Type.Optional(Type.Integer()) }),
});
const AuthRequiredFrame = Type.Object({
  v: V, type: Type.Literal('auth-required'), id: RequestId, session: SessionId, url: Type.String(),
  expiresAt: Type.Integer(), merchant: Merchant, amount: Amount, currency: Currency, maskedPan: Type.String(),
  pinEntry: Type.Optional(Type.Union([Type.Literal('scanner'), Type.Literal('holder-device')])), // v1.4
});
const PaymentResultFrame = Type.Object({
  v: V, type: Type.Literal('payment-result'), id: Type.Union([RequestId, Type.Null()]), session: SessionId,
  outcome: Type.Union([Type.Literal('approved'), Type.Literal('declined')]),
  reason: Type.Union([Type.String(), Type.Null()]),
  attemptsLeft: Type.Optional(Type.Integer()),
  replayed: Type.Boolean(), receipt: Type.Union([Receipt, Type.Null()]),
});
const ErrorFrame = Type.Object({
  v: V, type: Type.Literal('error'), id: Type.Union([Type.String(), Type.Null()]),
  code: Type.String(), message: Type.String(),
});
const PongFrame = Type.Object({ v: V, type: Type.Literal('pong'), id: RequestId });
const SessionStatusFrame = Type.Object({
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
const ReversalFrame = Type.Object({
  v: V, type: Type.Literal('reversal'), id: RequestId, session: SessionId,
  action: Type.Union([Type.Literal('voided'), Type.Literal('refunded'), Type.Literal('none')]), replayed: Type.Boolean(),
});
const GatewayFrame = Type.Union([WelcomeFrame, AuthRequiredFrame, PaymentResultFrame, ErrorFrame, PongFrame, SessionStatusFrame, ReversalFrame]);


/** True when A and B are the same type (each assignable to the other). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compile-time: every schema states exactly its interface. */
const schemasMatchInterfaces: [
  Same<Static<typeof ScanFrame>, Frames.ScanFrame>, Same<Static<typeof PinFrame>, Frames.PinFrame>,
  Same<Static<typeof PingFrame>, Frames.PingFrame>, Same<Static<typeof StatusFrame>, Frames.StatusFrame>,
  Same<Static<typeof Receipt>, Frames.Receipt>, Same<Static<typeof WelcomeFrame>, Frames.WelcomeFrame>,
  Same<Static<typeof AuthRequiredFrame>, Frames.AuthRequiredFrame>, Same<Static<typeof PaymentResultFrame>, Frames.PaymentResultFrame>,
  Same<Static<typeof ErrorFrame>, Frames.ErrorFrame>, Same<Static<typeof PongFrame>, Frames.PongFrame>,
  Same<Static<typeof SessionStatusFrame>, Frames.SessionStatusFrame>,
  Same<Static<typeof ReverseFrame>, Frames.ReverseFrame>, Same<Static<typeof ReversalFrame>, Frames.ReversalFrame>,
  Same<Static<typeof ScannerFrame>, Frames.ScannerFrame>, Same<Static<typeof GatewayFrame>, Frames.GatewayFrame>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];
void schemasMatchInterfaces;

/** A compiled check: whether a value is the frame, and the first broken rule (path and message) when not. */
export interface FrameCheck {
  Check(value: unknown): boolean;
  Errors(value: unknown): Iterable<{ path: string; message: string }>;
}
const compile = (schema: TSchema): FrameCheck => TypeCompiler.Compile(schema);

/** One compiled check per frame type, so a rejection names the field at fault (a union check only says "Expected union value"). */
export const scannerFrameChecks: Record<string, FrameCheck> = {
  scan: compile(ScanFrame), pin: compile(PinFrame), ping: compile(PingFrame), status: compile(StatusFrame), reverse: compile(ReverseFrame),
};
export const gatewayFrameChecks: Record<string, FrameCheck> = {
  welcome: compile(WelcomeFrame), 'auth-required': compile(AuthRequiredFrame), 'payment-result': compile(PaymentResultFrame),
  error: compile(ErrorFrame), pong: compile(PongFrame), 'session-status': compile(SessionStatusFrame),
  reversal: compile(ReversalFrame),
};
