/**
 * The wallet page (/wallet; docs/security.md "The wallet"): static HTML and its script, no third-party code, under a
 * strict CSP (its own scripts, the core's modules and .wasm from this gateway, same-origin fetches only). The holder
 * pastes the printed card's QR text, enters the PIN, and the page receives the wallet key once; it keeps the key
 * wrapped under a non-extractable AES-GCM key in IndexedDB, and the code counter beside it, and shows a one-time code
 * (payload v2) as a QR code that changes every 30 s and on "New code", computed with `scanpay/core` (WASM) here.
 */

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:16px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f4f6;color:#111827;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;width:100%;max-width:28rem;margin:1rem;padding:1.5rem;border-radius:1rem;box-shadow:0 4px 24px rgba(0,0,0,.08)}
h1{font-size:1.1rem;margin:0 0 1rem;color:#374151}label{display:block;margin:1rem 0 .25rem;font-weight:600}
textarea,input{width:100%;padding:.6rem;font:14px/1.3 ui-monospace,monospace;border:2px solid #d1d5db;border-radius:.5rem}
textarea{min-height:6rem}input{font-size:1.4rem;letter-spacing:.4em;text-align:center}
button{font:inherit;width:100%;margin-top:1rem;padding:.9rem;font-size:1.05rem;font-weight:600;color:#fff;background:#2563eb;border:0;border-radius:.5rem}
button.secondary{background:#e5e7eb;color:#111827}button:disabled{opacity:.5}
.qr svg{width:100%;max-width:18rem;display:block;margin:0 auto;background:#fff}code{font:12px/1.3 ui-monospace,monospace;overflow-wrap:anywhere}
.note{color:#6b7280;font-size:.9rem}.bad{color:#b91c1c}.ok{color:#047857}.countdown{text-align:center;font-variant-numeric:tabular-nums}[hidden]{display:none}`;

/** The page: three sections, one shown at a time by the script (enrol: the card, then the PIN; then the codes). */
export function renderWalletPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
    + `<meta name="referrer" content="no-referrer"><title>Wallet · scanpay</title><style>${STYLE}</style></head><body><main>
<h1>scanpay wallet</h1>
<p id="status" data-testid="wallet-status" class="note" aria-live="polite">Loading…</p>
<section id="enrol-card" hidden>
<p>Add your card to this browser: it then shows one-time payment codes, so a photo of the printed card is not enough to pay.</p>
<label for="card">The text of your card's QR code</label>
<textarea id="card" data-testid="card-input" spellcheck="false" autocomplete="off"></textarea>
<button id="start" data-testid="enrol-start" type="button">Continue</button>
</section>
<section id="enrol-pin" hidden>
<p>Card <strong id="masked-pan"></strong>: enter its PIN to add it to this browser.</p>
<label for="pin">PIN</label>
<input id="pin" data-testid="pin-input" type="password" inputmode="numeric" pattern="[0-9]{4}" minlength="4" maxlength="4" autocomplete="off">
<button id="confirm" data-testid="enrol-pin" type="button">Add card</button>
</section>
<section id="codes" hidden>
<p>Show this code to pay. It is valid once and changes every 30 seconds.</p>
<div class="qr" id="code-qr" data-testid="code-qr" role="img" aria-label="one-time payment code"></div>
<p class="countdown note" id="countdown" data-testid="countdown"></p>
<p><code id="code-text" data-testid="code-text"></code></p>
<button id="next" data-testid="new-code" type="button">New code</button>
<button id="forget" class="secondary" type="button">Remove this card from this browser</button>
</section>
<p id="problem" data-testid="wallet-error" class="bad" role="alert"></p>
<p class="note">Nothing here leaves this browser but the card's QR text and the PIN, once, to the issuer. The wallet key stays in this browser, sealed under a key the page itself cannot read out.</p>
<script type="module" src="/wallet/app.js"></script></main></body></html>`;
}

/**
 * The page's script (served as /wallet/app.js): plain JavaScript, sent as it is. Imports the core's browser entry and
 * the QR encoder beside it (both from this gateway). Storage: IndexedDB `scanpay-wallet`, object store `wallet`, key
 * `card`: { enrolmentId, maskedPan, wrapKey (a non-extractable AES-GCM CryptoKey), iv, sealed (the wallet key
 * sealed under wrapKey, the enrolment id as associated data), counter (the last counter shown) }. The counter is
 * raised and stored before its code is computed, so no two codes ever share one, even across a crash.
 */
export const WALLET_APP_JS = `import { loadCore, oneTimeCode, codeTimeStep, CODE_STEP_SECONDS } from './core/browser.js';
import { qrMatrix } from './qr-matrix.js';
const $ = (id) => document.getElementById(id);
const REASONS = {
  PAYLOAD_UNREADABLE: 'That is not the text of a card QR code.', CARD_INVALID: 'This card cannot be used.', CARD_BLOCKED: 'The card is blocked.',
  CARD_LOCKED: 'The card is locked after too many wrong PINs. Contact your card issuer.', PIN_WRONG: 'Wrong PIN.',
  STATIC_QR_REFUSED: 'This card already has a wallet: the issuer must revoke it first.', RATE_LIMITED: 'Too many attempts: wait a moment.',
  SESSION_EXPIRED: 'This took too long: start again.', SESSION_UNKNOWN: 'Start again.', SESSION_USED: 'This PIN was already submitted: start again.',
};
const show = (section) => { for (const id of ['enrol-card', 'enrol-pin', 'codes']) $(id).hidden = id !== section; };
const problem = (text) => { $('problem').textContent = text || ''; };
const status = (text) => { $('status').textContent = text; };
const unhex = (text) => new Uint8Array(text.match(/../g).map((h) => parseInt(h, 16)));
const ad = (enrolmentId) => new TextEncoder().encode('scanpay/v2/wallet-seal\\n' + enrolmentId);

function database() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('scanpay-wallet', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('wallet');
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}
async function stored(mode, act) {
  const db = await database();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction('wallet', mode);
      const request = act(tx.objectStore('wallet'));
      let value;
      if (request) request.onsuccess = () => { value = request.result; };
      tx.oncomplete = () => resolve(value); // durable once the transaction commits
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally { db.close(); }
}
const readCard = () => stored('readonly', (s) => s.get('card'));
const writeCard = (card) => stored('readwrite', (s) => s.put(card, 'card'));
const forgetCard = () => stored('readwrite', (s) => s.delete('card'));

async function post(path, body) {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
  let answer = {};
  try { answer = await response.json(); } catch { /* an answer without JSON: its status says enough */ }
  return { status: response.status, answer };
}

const core = await loadCore();
let enrolling = null; // { session, token, maskedPan }
let timer = null;
let queue = Promise.resolve(); // one code at a time: the counter is read, raised and stored in turn

function drawQr(text) {
  const modules = qrMatrix(text);
  const quiet = 4;
  const side = modules.length + 2 * quiet;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 ' + side + ' ' + side);
  svg.setAttribute('shape-rendering', 'crispEdges');
  const background = document.createElementNS(ns, 'rect');
  background.setAttribute('width', String(side)); background.setAttribute('height', String(side)); background.setAttribute('fill', '#fff');
  let d = '';
  modules.forEach((row, y) => row.forEach((dark, x) => { if (dark) d += 'M' + (x + quiet) + ' ' + (y + quiet) + 'h1v1h-1z'; }));
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', d); path.setAttribute('fill', '#000');
  svg.append(background, path);
  $('code-qr').replaceChildren(svg);
}

/** The next code: counter + 1 stored first, then the code computed with the unsealed key, which is wiped at once. */
function nextCode() {
  queue = queue.then(async () => {
    const card = await readCard();
    if (!card) return;
    card.counter += 1;
    await writeCard(card);
    const key = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: card.iv, additionalData: ad(card.enrolmentId) }, card.wrapKey, card.sealed));
    const step = codeTimeStep(Date.now());
    let text;
    try { text = oneTimeCode(core, key, { enrolmentId: unhex(card.enrolmentId), step, counter: card.counter }).text; } finally { key.fill(0); }
    drawQr(text);
    $('code-text').textContent = text;
    $('code-qr').dataset.counter = String(card.counter);
    $('code-qr').dataset.step = String(step);
    schedule(step);
  }).catch((e) => problem('Could not make a code: ' + e.message));
  return queue;
}

/** A new code when the time step ends (every 30 s); the countdown meanwhile. */
function schedule(step) {
  clearInterval(timer);
  const ends = (step + 1) * CODE_STEP_SECONDS * 1000;
  const tick = () => {
    const left = Math.ceil((ends - Date.now()) / 1000);
    if (left <= 0) { clearInterval(timer); nextCode(); return; }
    $('countdown').textContent = 'New code in ' + left + ' s';
  };
  tick();
  timer = setInterval(tick, 1000);
}

async function showCodes(card) {
  status('Card ' + card.maskedPan + ' is in this browser.');
  show('codes');
  await nextCode();
}

$('start').addEventListener('click', async () => {
  problem('');
  const text = $('card').value.trim();
  if (!text) { problem('Paste the text of your card\\'s QR code.'); return; }
  $('start').disabled = true;
  try {
    const { status: code, answer } = await post('/wallet/enrol', { card: text });
    if (code !== 200) { problem(REASONS[answer.error] || 'The card could not be added (' + (answer.error || code) + ').'); return; }
    enrolling = answer;
    $('masked-pan').textContent = answer.maskedPan;
    show('enrol-pin');
    $('pin').focus();
  } finally { $('start').disabled = false; }
});

$('confirm').addEventListener('click', async () => {
  problem('');
  const pin = $('pin').value;
  if (!/^[0-9]{4}$/.test(pin)) { problem('The PIN is 4 digits.'); return; }
  $('confirm').disabled = true;
  try {
    const { status: code, answer } = await post('/wallet/enrol/' + enrolling.session + '/pin', { token: enrolling.token, pin });
    $('pin').value = '';
    if (code !== 200) {
      const left = answer.attemptsLeft ? ' ' + answer.attemptsLeft + ' attempt' + (answer.attemptsLeft > 1 ? 's' : '') + ' left.' : '';
      problem((REASONS[answer.error] || 'The card could not be added (' + (answer.error || code) + ').') + left);
      if (answer.error !== 'PIN_WRONG') show('enrol-card');
      return;
    }
    // the wallet key, once: sealed at once under a key this page cannot read out, and the plain copy wiped
    const walletKey = unhex(answer.walletKey);
    const wrapKey = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: ad(answer.enrolmentId) }, wrapKey, walletKey));
    walletKey.fill(0);
    answer.walletKey = '';
    const card = { enrolmentId: answer.enrolmentId, maskedPan: answer.maskedPan, wrapKey, iv, sealed, counter: 0 };
    await writeCard(card);
    enrolling = null;
    await showCodes(card);
  } finally { $('confirm').disabled = false; }
});

$('next').addEventListener('click', () => { problem(''); nextCode(); });
$('forget').addEventListener('click', async () => {
  clearInterval(timer);
  await forgetCard();
  $('code-qr').replaceChildren();
  $('code-text').textContent = '';
  status('No card in this browser.');
  show('enrol-card');
});

const card = await readCard();
if (card) await showCodes(card);
else { status('No card in this browser.'); show('enrol-card'); }
window.scanpayWalletReady = true;
`;
