/**
 * The authentication page (S24) and its outcome: plain HTML and CSS, no script, readable on a phone.
 * Shows merchant, amount and masked PAN, asks for the PIN; the form posts back to the same URL.
 */
import type { DeclineCode, ErrorFrame, PaymentResultFrame, ScannerCode } from '../../protocol/messages.ts';
import { PIN_DIGITS, PIN_PATTERN } from '../../protocol/values.ts';

export interface AuthPageModel {
  sessionId: string;
  token: string;
  /** The session's scanner: the form posts it back, so the PIN's store step need not look it up first. */
  deviceId: string;
  merchant: string;
  amount: number; // minor units
  currency: string;
  maskedPan: string;
  expiresAt: number;
  /** Why the form is shown again: the PIN posted was not one (PIN_FORMAT). */
  problem?: 'PIN_FORMAT';
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** The PIN rule for the form's `pattern` attribute, which HTML anchors itself (so without ^ and $). */
const PIN_INPUT_PATTERN = PIN_PATTERN.replace(/^\^|\$$/g, '');

/** Minor units → "€12.50", with the currency's own number of decimals. */
export function formatAmount(minor: number, currency: string): string {
  const format = new Intl.NumberFormat('en', { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minor / 10 ** digits);
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:16px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f4f6;color:#111827;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;width:100%;max-width:24rem;margin:1rem;padding:1.5rem;border-radius:1rem;box-shadow:0 4px 24px rgba(0,0,0,.08)}
h1{font-size:1.1rem;margin:0 0 1rem;color:#374151}.amount{font-size:2.2rem;font-weight:700;margin:.25rem 0}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:1rem 0}dt{color:#6b7280}dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}
label{display:block;margin:1rem 0 .5rem;font-weight:600}input{width:100%;font-size:2rem;letter-spacing:.75rem;text-align:center;padding:.5rem;border:2px solid #d1d5db;border-radius:.5rem}
input:focus{outline:none;border-color:#2563eb}button{font:inherit;width:100%;margin-top:1rem;padding:.9rem;font-size:1.1rem;font-weight:600;color:#fff;background:#2563eb;border:0;border-radius:.5rem}
.ok{color:#047857}.bad{color:#b91c1c}.note{color:#6b7280;font-size:.9rem}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
    + `<meta name="referrer" content="no-referrer"><title>${escape(title)} · scanpay</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

export function renderAuthPage(m: AuthPageModel): string {
  const action = `/auth/${m.sessionId}`;
  return page('Confirm payment', `<h1>Confirm payment</h1>
<div class="amount" data-testid="amount">${escape(formatAmount(m.amount, m.currency))}</div>
<dl><dt>Merchant</dt><dd data-testid="merchant">${escape(m.merchant)}</dd><dt>Card</dt><dd data-testid="card">${escape(m.maskedPan)}</dd></dl>
${m.problem ? `<p class="bad" data-testid="problem" data-code="${escape(m.problem)}">Enter the ${PIN_DIGITS}-digit PIN.</p>\n` : ''}<form method="post" action="${escape(action)}" autocomplete="off">
<input type="hidden" name="t" value="${escape(m.token)}">
<input type="hidden" name="scanner" value="${escape(m.deviceId)}">
<label for="pin">Enter your PIN to pay</label>
<input id="pin" name="pin" type="password" inputmode="numeric" pattern="${escape(PIN_INPUT_PATTERN)}" minlength="${PIN_DIGITS}" maxlength="${PIN_DIGITS}" required autofocus>
<button type="submit">Pay ${escape(formatAmount(m.amount, m.currency))}</button>
</form>
<p class="note">By entering your PIN you confirm the amount and the merchant.</p>`);
}

/** Every decline reason's words (the type asks for each of DECLINE_CODES). */
const DECLINE_TEXT: Record<DeclineCode, string> = {
  INSUFFICIENT_FUNDS: 'Insufficient funds.',
  OVER_LIMIT: 'The amount is over the card limit.',
  CURRENCY_MISMATCH: 'The card does not pay in this currency.',
  STATIC_QR_REFUSED: 'The card\'s printed code is not accepted for this payment: pay with the one-time code of your wallet.',
};

const REASON_TEXT: Partial<Record<ScannerCode, string>> = {
  PIN_WRONG: 'Wrong PIN.',
  CARD_LOCKED: 'The card is locked after too many wrong PINs. Contact your card issuer.',
  CARD_BLOCKED: 'The card is blocked. Contact your card issuer.',
  CARD_INVALID: 'This card cannot be used.',
  ...DECLINE_TEXT,
  SESSION_USED: 'This payment has already been submitted.',
  SESSION_EXPIRED: 'This payment request has expired. Scan the card again.',
  SESSION_UNKNOWN: 'Unknown payment request. Scan the card again.',
  SESSION_WRONG_SCANNER: 'This payment request belongs to another terminal.',
  PIN_LIMIT: 'This terminal takes no PINs for a while (too many wrong PINs). Ask the staff.',
  DEVICE_REVOKED: 'This terminal can no longer take payments.',
  REVERSED: 'This payment was cancelled by the terminal or the merchant. Nothing was charged.',
};

/**
 * The outcome of a payment. An approved one links to its signed receipt (`receiptUrl`, the holder's receipt page:
 * docs/receipts.md), which is signed moments after the payment, so the link is shown at once and the page it
 * opens waits for the receipt.
 */
export function renderOutcomePage(outcome: PaymentResultFrame | ErrorFrame, receiptUrl?: string): string {
  if (outcome.type === 'payment-result' && outcome.outcome === 'approved') {
    const r = outcome.receipt!;
    return page('Payment approved', `<h1 class="ok" data-testid="outcome">Payment approved</h1>
<div class="amount">${escape(formatAmount(r.amount, r.currency))}</div>
<dl><dt>Merchant</dt><dd>${escape(r.merchant)}</dd><dt>Card</dt><dd>${escape(r.maskedPan)}</dd></dl>
<p class="note">Receipt ${escape(r.mac.slice(0, 16))}…</p>${receiptUrl ? `
<p><a data-testid="signed-receipt" href="${escape(receiptUrl)}">Your signed receipt (a QR code you can keep)</a></p>` : ''}`);
  }
  const reason = outcome.type === 'payment-result' ? outcome.reason ?? 'DECLINED' : outcome.code;
  const left = outcome.type === 'payment-result' && outcome.reason === 'PIN_WRONG' && outcome.attemptsLeft !== undefined
    ? ` ${outcome.attemptsLeft} attempt${outcome.attemptsLeft === 1 ? '' : 's'} left: scan the card again.` : '';
  return page('Payment declined', `<h1 class="bad" data-testid="outcome">Payment declined</h1>
<p data-testid="reason" data-code="${escape(reason)}">${escape(REASON_TEXT[reason as ScannerCode] ?? 'The payment could not be completed.')}${escape(left)}</p>`);
}

export function renderNotice(title: string, text: string): string {
  return page(title, `<h1>${escape(title)}</h1><p>${escape(text)}</p>`);
}
