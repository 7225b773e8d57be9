/**
 * The receipts' public routes (docs/receipts.md), on the scanners' listener:
 *   GET /auth/:session/receipt?t=<page token>   the holder's signed receipts of the payment, as QR codes (the same
 *                                                token as the auth page: without it, the auth page's NOT_FOUND bytes)
 *   GET /receipt-keys                            the published receipt keys (JSON), no key needed: they are public
 *   GET /receipt-verify                          the static verify page, and its script, the core's browser modules
 *   GET /receipt-verify/app.js, /core/:file, /build/:file   and its .wasm, all served from this gateway (strict CSP)
 * The core's modules and .wasm are served by core-assets.ts (as the wallet page's are).
 */
import { decodeReceipt, receiptBytes } from '../../core/receipt.ts';
import type { ReceiptKeyInfo } from '../../issuer/key-ring.ts';
import { receiptQrSvg } from '../../issuer/qr.ts';
import { isSessionId } from '../../protocol/values.ts';
import { AddressLimiter, callerKey } from '../address-limiter.ts';
import { renderNotice } from '../auth-page/render.ts';
import { GATEWAY_DEFAULTS, type PageLimits } from '../defaults.ts';
import type { FlowDeps } from '../flow/deps.ts';
import { pageTokenMatches } from '../flow/page-token.ts';
import { receiptKeysObject } from '../merchant-api/answers.ts';
import { VERIFY_APP_JS, renderReceiptPage, renderReceiptPending, renderVerifyPage } from '../receipt-page/render.ts';
import { STATIC_HEADERS, asset, coreAssetRoutes } from './core-assets.ts';
import { html, type HttpResponse, type HttpRoute } from './types.ts';

export const RECEIPT_VERIFY_PATH = '/receipt-verify';

// the auth page's answer to a request without its token: the same bytes here, so this path tells nothing more
const NOT_FOUND_PAGE = renderNotice('Payment request not found', 'This payment request is unknown or has expired, or its link is incomplete. Scan the card again.');
const TOO_MANY_PAGE = renderNotice('Please wait', 'Too many attempts. Wait a moment and submit again.');

/** The verify page may run its own script and the core (WebAssembly compiled from bytes it fetched here), nothing else. */
const VERIFY_CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; style-src 'unsafe-inline'; "
  + "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface ReceiptRouteDeps {
  flow: Pick<FlowDeps, 'core' | 'pageKey' | 'store'>;
  receiptKeys: () => readonly ReceiptKeyInfo[];
  limits?: PageLimits;
}

export function receiptRoutes(deps: ReceiptRouteDeps): HttpRoute[] {
  const { flow } = deps;
  const limits = deps.limits ?? GATEWAY_DEFAULTS.pageLimits;
  const refused = new AddressLimiter(limits.refusedPerAddress ?? GATEWAY_DEFAULTS.pageLimits.refusedPerAddress);
  const views = new AddressLimiter(limits.viewsPerAddress ?? GATEWAY_DEFAULTS.pageLimits.viewsPerAddress);
  const tooMany = (): HttpResponse => {
    const page = html(429, TOO_MANY_PAGE);
    return { ...page, headers: { ...page.headers, 'retry-after': '1' } };
  };

  return [
    {
      method: 'get',
      pattern: '/auth/:session/receipt',
      async handler(req) {
        const id = req.params.session;
        if (!isSessionId(id) || !pageTokenMatches(flow.core, flow.pageKey, id, req.query.get('t'))) {
          return refused.take(callerKey(req.remoteAddress)) ? html(404, NOT_FOUND_PAGE) : tooMany();
        }
        if (!views.take(callerKey(req.remoteAddress))) return tooMany();
        const payment = await flow.store.payments.getPayment(id);
        const stored = payment ? await flow.store.receipts.paymentReceipts(payment.merchant, id) : [];
        if (stored.length === 0) return html(200, renderReceiptPending());
        const shown = await Promise.all(stored.map(async (s) => ({ receipt: decodeReceipt(receiptBytes(s.text)), text: s.text, qrSvg: await receiptQrSvg(s.text) })));
        return html(200, renderReceiptPage(shown, RECEIPT_VERIFY_PATH));
      },
    },
    {
      method: 'get',
      pattern: '/receipt-keys',
      async handler() {
        return { status: 200, contentType: 'application/json', body: JSON.stringify(receiptKeysObject(deps.receiptKeys())), headers: { 'cache-control': 'no-cache', 'access-control-allow-origin': '*' } };
      },
    },
    {
      method: 'get',
      pattern: RECEIPT_VERIFY_PATH,
      async handler() {
        const page = html(200, renderVerifyPage(JSON.stringify(receiptKeysObject(deps.receiptKeys()))));
        return { ...page, headers: { ...page.headers, ...STATIC_HEADERS, 'content-security-policy': VERIFY_CSP } };
      },
    },
    {
      method: 'get',
      pattern: `${RECEIPT_VERIFY_PATH}/app.js`,
      handler: async () => asset('text/javascript; charset=utf-8', VERIFY_APP_JS),
    },
    ...coreAssetRoutes(RECEIPT_VERIFY_PATH),
  ];
}
