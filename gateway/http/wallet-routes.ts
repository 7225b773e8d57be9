/**
 * The wallet's routes (docs/security.md "The wallet"), on the scanners' listener:
 *   GET  /wallet                          the static page (wallet-page/render.ts), strict CSP
 *   GET  /wallet/app.js, /wallet/qr-matrix.js, /wallet/core/:file, /wallet/build/:file   its scripts and the core's
 *   POST /wallet/enrol                    {card: the printed QR's text} → {session, token, maskedPan, expiresAt}
 *   POST /wallet/enrol/:session/pin       {token, pin} → {enrolmentId, walletKey (hex), maskedPan}, once
 * The POSTs are the page's own (same Origin as PUBLIC_URL, or Sec-Fetch-Site: same-origin) and JSON; anything else is
 * refused before any work. Starting takes a unit of its address's budget in the store step that opens the session
 * (a scan judged as a scanner's: flow/enrol.ts). The PIN POST needs the enrolment's token (an HMAC, checked in
 * process: without it the same 404 for every request, and past its address's budget for those, 429 from memory),
 * then takes its address's and its session's units in the attempt's store step. Errors are {error, message}, with
 * the codes a scanner would get (no oracle); the wallet key is in one answer only, never logged, and wiped here once
 * it is written.
 */
import type { RateTake } from '../../issuer/store/index.ts';
import type { ScannerCode } from '../../protocol/messages.ts';
import { AddressLimiter, callerKey } from '../address-limiter.ts';
import { GATEWAY_DEFAULTS, type PageLimits } from '../defaults.ts';
import type { FlowDeps } from '../flow/deps.ts';
import { enrolmentTokenMatches, startEnrolment, submitEnrolmentPin } from '../flow/enrol.ts';
import { WALLET_APP_JS, renderWalletPage } from '../wallet-page/render.ts';
import { fromOurPage } from './auth-routes.ts';
import { STATIC_HEADERS, asset, coreAssetRoutes, moduleIn } from './core-assets.ts';
import { parseMediaType } from './media-type.ts';
import { html, type HttpRequest, type HttpResponse, type HttpRoute } from './types.ts';

export const WALLET_PATH = '/wallet';

/** The page runs its own scripts and the core (WebAssembly compiled from bytes it fetched here), fetches this origin only. */
const WALLET_CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; style-src 'unsafe-inline'; "
  + "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const WALLET_PAGE_DIR = new URL('../wallet-page/', import.meta.url);
/** Longest card text a start takes (v1's text is 168 characters): more is PAYLOAD_UNREADABLE without any work. */
const MAX_CARD_TEXT = 256;

const MESSAGES: Partial<Record<ScannerCode | 'NOT_FOUND' | 'CROSS_SITE' | 'BAD_REQUEST', string>> = {
  NOT_FOUND: 'unknown or expired enrolment; start again',
  CROSS_SITE: 'submit from the wallet page itself',
  BAD_REQUEST: 'send JSON from the wallet page',
  RATE_LIMITED: 'too many attempts; wait a moment',
};

function json(status: number, body: unknown, extra: Record<string, string> = {}): HttpResponse {
  return {
    status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body),
    headers: { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', ...extra },
  };
}

function refusal(code: ScannerCode | 'NOT_FOUND' | 'CROSS_SITE' | 'BAD_REQUEST', attemptsLeft?: number): HttpResponse {
  const status = code === 'NOT_FOUND' || code === 'SESSION_UNKNOWN' ? 404 : code === 'CROSS_SITE' ? 403 : code === 'BAD_REQUEST' || code === 'BAD_FRAME' ? 400
    : code === 'RATE_LIMITED' ? 429 : code === 'SESSION_EXPIRED' ? 410 : 409;
  return json(status, { error: code === 'SESSION_UNKNOWN' ? 'NOT_FOUND' : code, message: MESSAGES[code] ?? code, ...(attemptsLeft === undefined ? {} : { attemptsLeft }) },
    status === 429 ? { 'retry-after': '1' } : {});
}

/** A JSON object body from the page itself, or the refusal to answer. */
function pageJson(req: HttpRequest, publicOrigin: string): Record<string, unknown> | HttpResponse {
  if (!fromOurPage(req, publicOrigin)) return refusal('CROSS_SITE');
  const media = parseMediaType(req.contentType);
  if (!media || media.essence !== 'application/json') return refusal('BAD_REQUEST');
  try {
    const body: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(req.body));
    return typeof body === 'object' && body !== null && !Array.isArray(body) ? body as Record<string, unknown> : refusal('BAD_REQUEST');
  } catch {
    return refusal('BAD_REQUEST');
  }
}

const isResponse = (v: unknown): v is HttpResponse => typeof v === 'object' && v !== null && 'status' in v && 'contentType' in v;
const addressKey = (kind: string, req: HttpRequest) => `wallet-${kind}:${callerKey(req.remoteAddress).replace(/[^A-Za-z0-9:._-]/g, '_')}`;

export function walletRoutes(deps: FlowDeps, inFlight: { track<T>(work: Promise<T>): Promise<T> }, draining: () => boolean, limits: PageLimits = GATEWAY_DEFAULTS.pageLimits): HttpRoute[] {
  const publicOrigin = () => new URL(deps.config.publicUrl).origin;
  const refused = new AddressLimiter(limits.refusedPerAddress ?? GATEWAY_DEFAULTS.pageLimits.refusedPerAddress);
  let qrModule: Promise<string | null> | undefined;
  return [
    {
      method: 'get',
      pattern: WALLET_PATH,
      async handler() {
        const page = html(200, renderWalletPage());
        return { ...page, headers: { ...page.headers, ...STATIC_HEADERS, 'cache-control': 'no-store', 'content-security-policy': WALLET_CSP } };
      },
    },
    { method: 'get', pattern: `${WALLET_PATH}/app.js`, handler: async () => asset('text/javascript; charset=utf-8', WALLET_APP_JS) },
    {
      method: 'get',
      pattern: `${WALLET_PATH}/qr-matrix.js`,
      async handler() {
        const js = await (qrModule ??= moduleIn(WALLET_PAGE_DIR, 'qr-matrix'));
        return js === null ? { status: 404, contentType: 'text/plain', body: 'not found' } : asset('text/javascript; charset=utf-8', js);
      },
    },
    ...coreAssetRoutes(WALLET_PATH),
    {
      method: 'post',
      pattern: `${WALLET_PATH}/enrol`,
      async handler(req) {
        if (draining()) return json(503, { error: 'SHUTTING_DOWN', message: 'the service is restarting; try again in a moment' });
        const body = pageJson(req, publicOrigin());
        if (isResponse(body)) return body;
        const card = typeof body.card === 'string' && body.card.length <= MAX_CARD_TEXT ? body.card.trim() : '';
        const rates: RateTake[] = [{ key: addressKey('enrol', req), limit: limits.perAddress }];
        const alone = async () => deps.store.takeRate(rates[0]!.key, rates[0]!.limit);
        const started = await inFlight.track(startEnrolment(deps, card, rates, alone));
        if (!started.ok) return refusal(started.code);
        const { session, token, maskedPan, expiresAt } = started;
        return json(200, { session, token, maskedPan, expiresAt });
      },
    },
    {
      method: 'post',
      pattern: `${WALLET_PATH}/enrol/:session/pin`,
      async handler(req) {
        if (draining()) return json(503, { error: 'SHUTTING_DOWN', message: 'the service is restarting; try again in a moment' });
        const body = pageJson(req, publicOrigin());
        if (isResponse(body)) return body;
        const id = req.params.session ?? '';
        // the token first, in process: without it one answer for all, costing the store nothing
        if (!enrolmentTokenMatches(deps, id, body.token)) return refused.take(callerKey(req.remoteAddress)) ? refusal('NOT_FOUND') : refusal('RATE_LIMITED');
        const rates: RateTake[] = [
          { key: addressKey('pin', req), limit: limits.perAddress },
          { key: `wallet-session:${id}`, limit: limits.perSession },
        ];
        const outcome = await inFlight.track(submitEnrolmentPin(deps, id, typeof body.pin === 'string' ? body.pin : '', rates));
        if (!outcome.ok) return refusal(outcome.code, outcome.attemptsLeft);
        const answer = json(200, { enrolmentId: outcome.enrolmentId, walletKey: Buffer.from(outcome.walletKey).toString('hex'), maskedPan: outcome.maskedPan });
        outcome.walletKey.fill(0);
        return answer;
      },
    },
  ];
}
