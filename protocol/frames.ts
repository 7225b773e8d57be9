/**
 * The frames of the scanner WebSocket protocol v1 (docs/protocol.md) as plain types: what each JSON text
 * message holds. Their TypeBox schemas (frame-schemas.ts) are held equal to these at compile time, and
 * messages.ts parses with them; the package's public declarations name these, never a TypeBox type.
 */

export const PROTOCOL_VERSION = 1;

// scanner → gateway (the rules of each value: protocol/values.ts; of a request id: `^[A-Za-z0-9._:-]{1,64}$`)
export interface ScanFrame {
  v: typeof PROTOCOL_VERSION; type: 'scan'; id: string; payload: string; amount: number; currency: string; merchant: string;
  /** v1.2: capture the payment when authorized (automatic) or when its merchant asks (manual); default: the merchant's setting. */
  capture?: 'automatic' | 'manual';
}
export interface PinFrame { v: typeof PROTOCOL_VERSION; type: 'pin'; id: string; session: string; pin: string }
export interface PingFrame { v: typeof PROTOCOL_VERSION; type: 'ping'; id: string }
/** v1.1: where one of this scanner's sessions stands, and its result once decided (e.g. after a reconnect). */
export interface StatusFrame { v: typeof PROTOCOL_VERSION; type: 'status'; id: string; session: string }
/**
 * v1.3: reverse the payment of one of this scanner's sessions whose answer was lost (ISO 8583 0400): an approved
 * payment is voided (refunded once captured), one not yet authorized will hold nothing, any other is left as it is.
 * Idempotent: a repeat, or any later reversal, answers the first one's action and changes nothing.
 */
export interface ReverseFrame { v: typeof PROTOCOL_VERSION; type: 'reverse'; id: string; session: string }
export type ScannerFrame = ScanFrame | PinFrame | PingFrame | StatusFrame | ReverseFrame;

// gateway → scanner
export interface Receipt {
  session: string; merchant: string; amount: number; currency: string; maskedPan: string;
  outcome: 'approved' | 'declined'; reason: string | null; at: number; mac: string;
}
export interface WelcomeFrame { v: typeof PROTOCOL_VERSION; type: 'welcome'; scanner: string; limits: { maxFrameBytes: number; framesPerSecond: number; burst?: number } }
export interface AuthRequiredFrame {
  v: typeof PROTOCOL_VERSION; type: 'auth-required'; id: string; session: string; url: string; expiresAt: number;
  merchant: string; amount: number; currency: string; maskedPan: string;
  /**
   * v1.4: where the holder enters the PIN (absent from an older gateway: `scanner`). `holder-device`: show `url`
   * as a QR code for the holder's phone and do not ask for the PIN; a `pin` frame gets PIN_ENTRY_HOLDER_DEVICE.
   */
  pinEntry?: 'scanner' | 'holder-device';
}
export interface PaymentResultFrame {
  v: typeof PROTOCOL_VERSION; type: 'payment-result'; id: string | null; session: string; outcome: 'approved' | 'declined'; reason: string | null;
  attemptsLeft?: number; replayed: boolean; receipt: Receipt | null;
}
export interface ErrorFrame { v: typeof PROTOCOL_VERSION; type: 'error'; id: string | null; code: string; message: string }
export interface PongFrame { v: typeof PROTOCOL_VERSION; type: 'pong'; id: string }
export interface SessionStatusFrame {
  v: typeof PROTOCOL_VERSION; type: 'session-status'; id: string; session: string; state: 'open' | 'pending' | 'done'; expiresAt: number;
  result: { outcome: 'approved' | 'declined'; reason: string | null; attemptsLeft?: number; receipt: Receipt | null } | null;
}
/** What a reversal did (ReversalAction): voided the hold, refunded what was captured and not yet refunded, or nothing. */
export type ReversalAction = 'voided' | 'refunded' | 'none';
/** v1.3: the answer to `reverse`; `replayed`: an earlier reversal decided this action, this one changed nothing. */
export interface ReversalFrame { v: typeof PROTOCOL_VERSION; type: 'reversal'; id: string; session: string; action: ReversalAction; replayed: boolean }
export type GatewayFrame = WelcomeFrame | AuthRequiredFrame | PaymentResultFrame | ErrorFrame | PongFrame | SessionStatusFrame | ReversalFrame;
