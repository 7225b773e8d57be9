/**
 * Webhook signatures (docs/webhooks.md §Signature). Every delivery carries
 *   Scanpay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t ‖ "." ‖ body)>[,v1=<…>]
 * one v1 per secret the endpoint has now (two during a rotation's grace), the secret being the whole
 * `whsec_…` text as ASCII bytes and the body the exact bytes received. A receiver checks that some v1 matches
 * one of its secrets (in constant time), and that t is within its tolerance of its clock (300 s advised), which
 * bounds replays; it deduplicates on the event id (at least once: an event may come more than once).
 * @example
 *   const header = signatureHeader(['whsec_…'], Math.floor(Date.now() / 1000), body);   // the gateway
 *   const check = verifyWebhook(body, req.headers['scanpay-signature'], ['whsec_…']);    // a receiver
 *   if (!check.ok) return res.status(400).end(check.reason);
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Scanpay-Signature';
export const EVENT_ID_HEADER = 'Scanpay-Event-Id';
/** How far a signature's time may be from the receiver's clock by default (seconds). */
export const DEFAULT_TOLERANCE_S = 300;
/** A signing secret: `whsec_` and 43 base64url characters (32 random bytes). */
export const WEBHOOK_SECRET_PATTERN = '^whsec_[A-Za-z0-9_-]{43}$';

/** HMAC-SHA256(secret, `${t}.` ‖ body), hex. */
export function webhookSignature(secret: string, t: number, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
}

/** The header's value: `t=…` then one `v1=…` per secret, in the order given. */
export function signatureHeader(secrets: readonly string[], t: number, body: string | Uint8Array): string {
  return [`t=${t}`, ...secrets.map((s) => `v1=${webhookSignature(s, t, body)}`)].join(',');
}

export type WebhookCheck =
  | { ok: true; t: number }
  | { ok: false; reason: 'malformed' | 'too-old' | 'too-new' | 'no-match' };

export interface VerifyOptions {
  /** Seconds a signature's time may be from `now`; default 300. */
  toleranceSec?: number;
  /** The receiver's clock, unix seconds; default now. */
  now?: number;
}

const HEADER_PART = /^(t|v1|[a-z0-9]{1,16})=([0-9a-f]{1,128}|[0-9]{1,12})$/;

/**
 * Whether `body` (the exact bytes received) was signed by the gateway with one of `secrets` within the
 * tolerance. Unknown schemes in the header (a later `v2=`) are ignored; at most 16 parts are read.
 */
export function verifyWebhook(body: string | Uint8Array, header: string | null | undefined, secrets: readonly string[], opts: VerifyOptions = {}): WebhookCheck {
  if (typeof header !== 'string' || header.length > 2048) return { ok: false, reason: 'malformed' };
  let t: number | null = null;
  const given: Buffer[] = [];
  const parts = header.split(',');
  if (parts.length > 16) return { ok: false, reason: 'malformed' };
  for (const part of parts) {
    const m = HEADER_PART.exec(part.trim());
    if (!m) return { ok: false, reason: 'malformed' };
    if (m[1] === 't') {
      if (t !== null || !/^[0-9]{1,12}$/.test(m[2]!)) return { ok: false, reason: 'malformed' };
      t = Number(m[2]);
    } else if (m[1] === 'v1' && /^[0-9a-f]{64}$/.test(m[2]!)) given.push(Buffer.from(m[2]!, 'hex'));
  }
  if (t === null || given.length === 0) return { ok: false, reason: 'malformed' };
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const tolerance = opts.toleranceSec ?? DEFAULT_TOLERANCE_S;
  if (t < now - tolerance) return { ok: false, reason: 'too-old' };
  if (t > now + tolerance) return { ok: false, reason: 'too-new' };
  let match = false;
  for (const secret of secrets) {
    const expected = Buffer.from(webhookSignature(secret, t, body), 'hex');
    // every pair is compared, in constant time, whatever matched before
    for (const candidate of given) match = timingSafeEqual(expected, candidate) || match;
  }
  return match ? { ok: true, t } : { ok: false, reason: 'no-match' };
}
