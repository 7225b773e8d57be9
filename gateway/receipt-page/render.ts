/**
 * The holder's receipt pages (docs/receipts.md §For the holder): the signed receipt of a payment as a QR code
 * the holder can keep (plain HTML, no script: the page refreshes itself until the receipt is signed), and the
 * static verify page that checks a pasted receipt in the browser with `scanpay/core` (the same WASM the
 * gateway runs), under a strict CSP: its own script and the core only, nothing from elsewhere.
 */
import { receiptMaskedPan, type Receipt } from '../../core/receipt.ts';
import { formatAmount } from '../auth-page/render.ts';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:16px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f4f6;color:#111827;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;width:100%;max-width:28rem;margin:1rem;padding:1.5rem;border-radius:1rem;box-shadow:0 4px 24px rgba(0,0,0,.08)}
h1{font-size:1.1rem;margin:0 0 1rem;color:#374151}h2{font-size:1rem;margin:1.25rem 0 .5rem}.amount{font-size:2rem;font-weight:700;margin:.25rem 0}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:1rem 0}dt{color:#6b7280}dd{margin:0;text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.qr svg{width:100%;max-width:18rem;display:block;margin:0 auto}code,textarea{font:12px/1.3 ui-monospace,monospace;overflow-wrap:anywhere}
textarea{width:100%;min-height:6rem;padding:.5rem;border:2px solid #d1d5db;border-radius:.5rem}
button{font:inherit;width:100%;margin-top:1rem;padding:.9rem;font-size:1.1rem;font-weight:600;color:#fff;background:#2563eb;border:0;border-radius:.5rem}
.ok{color:#047857}.bad{color:#b91c1c}.note{color:#6b7280;font-size:.9rem}a{color:#2563eb}`;

function page(title: string, body: string, head = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
    + `<meta name="referrer" content="no-referrer">${head}<title>${escape(title)} · scanpay</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

const KIND_TITLE = { payment: 'Payment', capture: 'Capture', refund: 'Refund' } as const;

export interface ShownReceipt {
  receipt: Receipt;
  text: string;
  qrSvg: string;
}

/** A payment's signed receipts, each as its QR code and text, with the way to check them. */
export function renderReceiptPage(shown: readonly ShownReceipt[], verifyPath: string): string {
  const items = shown.map(({ receipt: r, text, qrSvg }) => `<section data-testid="receipt" data-kind="${r.kind}">
<h2>${KIND_TITLE[r.kind]} receipt ${r.seq}</h2>
<div class="amount">${escape(formatAmount(r.amount, r.currency))}</div>
<dl><dt>Merchant</dt><dd>${escape(r.merchant)}</dd><dt>Card</dt><dd>${escape(receiptMaskedPan(r))}</dd><dt>Time</dt><dd>${escape(new Date(r.at).toISOString())}</dd></dl>
<div class="qr">${qrSvg}</div>
<p><code data-testid="receipt-text">${escape(text)}</code></p></section>`).join('\n');
  return page('Your receipt', `<h1 class="ok">Signed receipt</h1>${items}
<p class="note">Keep the code: anyone can check it offline against the issuer's published keys, at <a href="${escape(verifyPath)}">${escape(verifyPath)}</a> or with <code>scanpay receipt verify</code>.</p>`);
}

/** The receipt is not signed yet (it is, within seconds of the payment): the page reloads itself. */
export function renderReceiptPending(): string {
  return page('Receipt on its way', `<h1 data-testid="receipt-pending">Your receipt is being signed</h1>
<p>This page reloads itself until it is ready, usually within a few seconds.</p>`, '<meta http-equiv="refresh" content="2">');
}

/** The verify page: its keys (the published ones, as this gateway has them) ride in the page, as data. */
export function renderVerifyPage(keysJson: string): string {
  const data = keysJson.replace(/</g, '\\u003c');
  return page('Verify a receipt', `<h1>Verify a receipt</h1>
<p class="note">Checks a scanpay receipt here, in this browser, with the same WebAssembly core the gateway runs. Nothing you paste leaves this page.</p>
<label for="receipt"><strong>Receipt</strong> (spr1.…)</label>
<textarea id="receipt" data-testid="receipt-input" spellcheck="false"></textarea>
<label for="previous"><strong>Previous receipt</strong> of the same merchant (optional: checks the chain)</label>
<textarea id="previous" data-testid="previous-input" spellcheck="false"></textarea>
<button id="verify" type="button" disabled>Verify</button>
<div id="verdict" data-testid="verdict" aria-live="polite"></div>
<script type="application/json" id="receipt-keys">${data}</script>
<script type="module" src="/receipt-verify/app.js"></script>`);
}

/**
 * The verify page's script (served as /receipt-verify/app.js): imports the core's browser entry beside it, which
 * fetches its .wasm from the gateway too. Plain JavaScript: it is sent as it is.
 */
export const VERIFY_APP_JS = `import { loadCore, verifyReceipt, verifyReceiptChain, receiptMaskedPan } from './core/browser.js';
const keys = JSON.parse(document.getElementById('receipt-keys').textContent);
const $ = (id) => document.getElementById(id);
const show = (ok, title, rows) => {
  const out = $('verdict');
  out.replaceChildren();
  const h = document.createElement('h2');
  h.className = ok ? 'ok' : 'bad';
  h.dataset.ok = String(ok);
  h.textContent = title;
  const dl = document.createElement('dl');
  for (const [k, v] of rows) {
    const dt = document.createElement('dt'); dt.textContent = k;
    const dd = document.createElement('dd'); dd.textContent = v;
    dl.append(dt, dd);
  }
  out.append(h, dl);
};
const core = await loadCore();
if (location.hash.startsWith('#spr1.')) $('receipt').value = location.hash.slice(1);
$('verify').disabled = false;
window.scanpayVerifyReady = true;
$('verify').addEventListener('click', () => {
  const text = $('receipt').value.trim();
  const previous = $('previous').value.trim();
  const verdict = previous ? verifyReceiptChain(core, [previous, text], keys).verdicts.at(-1) : verifyReceipt(core, text, keys);
  if (!verdict.ok) {
    show(false, 'Not a valid receipt', [['Problem', verdict.code], ['Detail', verdict.detail]]);
    return;
  }
  const r = verdict.receipt;
  show(true, previous ? 'Valid receipt, chained to the previous one' : 'Valid receipt', [
    ['Kind', r.kind], ['Merchant', r.merchant], ['Amount', (r.amount).toString() + ' ' + r.currency + ' (minor units)'],
    ['Card', receiptMaskedPan(r)], ['Time', new Date(r.at).toISOString()], ['Payment', r.paymentId], ['Receipt', r.merchant + ' #' + r.seq],
    ['Signed by', 'receipt key ' + r.keyId], ['Hash', verdict.hash],
  ]);
});
`;
