/**
 * The wallet's records (issue 26; docs/security.md "The wallet"): a card's enrolments (a holder's phone that
 * shows one-time codes, payload v2) and the card's policy for its printed, static QR (payload v1). An enrolment
 * is made by a PIN attempt (an auth session of purpose 'wallet-enrolment' through the same beginPinAttempt as a
 * payment's, then completeEnrolment); a code is used once (consumeCode raises the enrolment's counter in the same
 * step that opens the code's payment session). Redis keeps an enrolment on its card's shard (keys.ts), so each
 * of these steps is one script on one cluster slot.
 */

/** A v1 scan's policy (scanpay card policy): 'allowed' today's behaviour, 'limit' up to staticQrLimit, 'refused-when-enrolled'. */
export const STATIC_QR_POLICIES = ['allowed', 'limit', 'refused-when-enrolled'] as const;
export type StaticQrPolicy = (typeof STATIC_QR_POLICIES)[number];

/**
 * A card's wallet policy as it applies (the card row's optional fields with their defaults filled in): a row
 * without them, written before the wallet existed, is 'allowed', 0, 0.
 */
export interface CardPolicy {
  staticQr: StaticQrPolicy;
  /** With 'limit': the largest v1 (static QR) payment, minor units. */
  staticQrLimit: number;
  /** A verified one-time code stands in for the PIN up to this amount (minor units); above it the PIN is taken on the phone. */
  codeNoPinLimit: number;
}

export const DEFAULT_CARD_POLICY: Readonly<CardPolicy> = { staticQr: 'allowed', staticQrLimit: 0, codeNoPinLimit: 0 };

export type EnrolmentStatus = 'active' | 'revoked';

/** One phone enrolled for one card. Its wallet key is never stored: the gateway derives it again from the card's basic key. */
export interface EnrolmentRecord {
  id: string; // 32 lowercase hex: 16 bytes from the CSPRNG (the HKDF info of the wallet key)
  cardToken: string;
  createdAt: number; // ms since epoch
  status: EnrolmentStatus;
  revokedAt: number | null;
  /** The highest code counter accepted (0: none yet); a code must carry a larger one. */
  lastCounter: number;
  /**
   * The PAN wrapped under the issuer's storage key for this card and enrolment (card-secrets.ts wrapPan, 44 B): what
   * the code's DVD-1 record needs in place of the printed payload. A ciphertext: never shown.
   */
  wrappedPan: Uint8Array;
}

/** The session purpose of an enrolment's PIN attempt (AuthSession.purpose); a payment's has none. */
export const ENROLMENT_PURPOSE = 'wallet-enrolment' as const;
/** The scanner and merchant an enrolment session names: none takes its PIN (PinPolicy.purpose keeps payments and enrolments apart). */
export const ENROLMENT_DEVICE = 'wallet-enrolment';
export const ENROLMENT_MERCHANT = 'scanpay-wallet';


/** What the engine's enrolment check gave for the row: its id (drawn by the caller) and the wrapped PAN. */
export interface NewEnrolment {
  id: string;
  wrappedPan: Uint8Array;
}

/** What revokeEnrolment did: revoked now, already revoked (nothing changed), or no such enrolment (nothing written). */
export type EnrolmentRevocation = 'revoked' | 'already-revoked' | 'unknown';


/**
 * Why consumeCode refused (nothing was changed): the enrolment is unknown (or not this card's), revoked; the card
 * is gone, blocked or locked; the counter is not above the last accepted one (CODE_USED: this code or an older
 * one was used); or the rate unit was refused.
 */
export type CodeRefusal = 'ENROLMENT_UNKNOWN' | 'ENROLMENT_REVOKED' | 'CARD_UNKNOWN' | 'CARD_BLOCKED' | 'CARD_LOCKED' | 'CODE_USED' | 'RATE_LIMITED';



/** A card row's policy with defaults filled in. */
export function cardPolicy(card: { staticQr?: StaticQrPolicy; staticQrLimit?: number; codeNoPinLimit?: number }): CardPolicy {
  return {
    staticQr: card.staticQr ?? DEFAULT_CARD_POLICY.staticQr,
    staticQrLimit: card.staticQrLimit ?? DEFAULT_CARD_POLICY.staticQrLimit,
    codeNoPinLimit: card.codeNoPinLimit ?? DEFAULT_CARD_POLICY.codeNoPinLimit,
  };
}

/**
 * Whether the card's static-QR policy refuses a v1 scan (or enrolment, amount 0) of `amount` now: over its limit,
 * or an active enrolment under 'refused-when-enrolled'. The same rule in Lua: STATIC_QR_REFUSED_LUA.
 */
export function staticQrRefuses(policy: Pick<CardPolicy, 'staticQr' | 'staticQrLimit'>, amount: number, enrolled: boolean): boolean {
  return (policy.staticQr === 'limit' && amount > policy.staticQrLimit) || (policy.staticQr === 'refused-when-enrolled' && enrolled);
}

/** Lua: `static_qr_refuses(staticQr, staticQrLimit, amount, enrolled)`, absent fields as their defaults. */
export const STATIC_QR_REFUSES_LUA = `
local function static_qr_refuses(policy, limit, amount, enrolled)
  if policy == 'limit' then return amount > tonumber(limit or '0') end
  if policy == 'refused-when-enrolled' then return enrolled end
  return false
end`;
