/**
 * GET and POST /auth/:session — the authentication page (S24) and the PIN it submits (S25).
 * The POST is refused unless it comes from the page itself (same Origin as PUBLIC_URL, or Sec-Fetch-Site:
 * same-origin), is a UTF-8 form, and is within the per-address and per-session limits. A used session's
 * page shows its outcome, never the form; an open session of a revoked device takes no PIN (403).
 */
import { maskPan } from '../../issuer/pan.ts';
import type { RateLimit, SessionView } from '../../issuer/store/types.ts';
import { isSessionId } from '../../protocol/values.ts';
import { renderAuthPage, renderNotice, renderOutcomePage } from '../auth-page/render.ts';
import { DEVICE_REVOKED_MESSAGE, type FlowDeps } from '../flow/deps.ts';
import { pageTokenMatches } from '../flow/page-token.ts';
import { handlePin, sessionOutcome } from '../flow/pin.ts';
import { rememberPageResult } from '../flow/status.ts';
import { isUtf8Form } from './media-type.ts';
import { html, type HttpRequest, type HttpResponse, type HttpRoute } from './types.ts';

const GONE = () => html(404, renderNotice('Payment request not found', 'This payment request is unknown or has expired. Scan the card again.'));
const FORBIDDEN = () => html(403, renderNotice('Link not valid', 'Open the payment page from the terminal that scanned the card.'));
const CROSS_SITE = () => html(403, renderNotice('Not allowed', 'Submit the PIN from the payment page itself.'));
function TOO_MANY(): HttpResponse {
  const page = html(429, renderNotice('Please wait', 'Too many attempts. Wait a moment and submit again.'));
  return { ...page, headers: { ...page.headers, 'retry-after': '1' } };
}
/** An open session of a device revoked since: no form, and no PIN taken (the POST gets this from handlePin's refusal). */
const REVOKED = () => html(403, renderOutcomePage({ v: 1, type: 'error', id: null, code: 'DEVICE_REVOKED', message: DEVICE_REVOKED_MESSAGE }));
const PENDING = () => html(409, renderNotice('Payment in progress', 'This payment is being processed. Reload the page in a moment to see its outcome.'));

export interface PageLimits {
  perAddress: RateLimit; // PIN posts from one client address, over every session
  perSession: RateLimit; // PIN posts for one session (it takes one PIN; the rest are retries)
}

export const DEFAULT_PAGE_LIMITS: PageLimits = { perAddress: { perSecond: 5, burst: 20 }, perSession: { perSecond: 0.2, burst: 3 } };

/**
 * A browser's form post from our own page: its Origin is PUBLIC_URL's, or it says Sec-Fetch-Site: same-origin
 * (a page under a no-referrer policy, or a privacy setting, sends `Origin: null`). Neither header: refused.
 */
function fromOurPage(req: HttpRequest, publicOrigin: string): boolean {
  if (req.origin && req.origin !== 'null') return req.origin === publicOrigin && (req.fetchSite === '' || req.fetchSite === 'same-origin');
  return req.fetchSite === 'same-origin';
}

/** The page for a session the token opens: the form while it is open, else its outcome. */
async function pageFor(deps: FlowDeps, view: SessionView, token: string): Promise<HttpResponse> {
  const { session } = view;
  if (view.state === 'pending') return PENDING();
  if (view.state === 'done') return html(200, renderOutcomePage(await sessionOutcome(deps, session.id, view.result!)));
  if (deps.revokedDevices.has(session.scannerId)) return REVOKED();
  return html(200, renderAuthPage({
    sessionId: session.id, token, merchant: session.merchant, amount: session.amount,
    currency: session.currency, maskedPan: maskPan(session.last4), expiresAt: session.expiresAt,
  }));
}

export function authRoutes(deps: FlowDeps, inFlight: { track<T>(work: Promise<T>): Promise<T> }, draining: () => boolean, limits: PageLimits = DEFAULT_PAGE_LIMITS): HttpRoute[] {
  const publicOrigin = () => new URL(deps.config.publicUrl).origin;
  return [
    {
      method: 'get',
      pattern: '/auth/:session',
      async handler(req) {
        const id = req.params.session;
        if (!isSessionId(id)) return GONE();
        const view = await deps.store.getSession(id);
        if (!view) return GONE();
        const token = req.query.get('t');
        if (!pageTokenMatches(deps.core, deps.pageKey, id, view.session.scannerId, token)) return FORBIDDEN();
        return pageFor(deps, view, token!);
      },
    },
    {
      method: 'post',
      pattern: '/auth/:session',
      async handler(req) {
        const id = req.params.session;
        if (!isSessionId(id)) return GONE();
        if (draining()) return html(503, renderNotice('Please try again', 'The payment service is restarting. Submit the PIN again in a moment.'));
        if (!fromOurPage(req, publicOrigin())) return CROSS_SITE();
        if (!isUtf8Form(req.contentType)) return html(415, renderNotice('Unsupported form', 'Submit the PIN from the payment page.'));
        if (!(await deps.store.takeRate(`page-address:${req.remoteAddress.replace(/[^A-Za-z0-9:._-]/g, '_')}`, limits.perAddress))) return TOO_MANY();
        const view = await deps.store.getSession(id);
        if (!view) return GONE();
        if (!(await deps.store.takeRate(`page-session:${id}`, limits.perSession))) return TOO_MANY();
        const form = new URLSearchParams(new TextDecoder().decode(req.body));
        const scannerId = view.session.scannerId;
        if (!pageTokenMatches(deps.core, deps.pageKey, id, scannerId, form.get('t'))) return FORBIDDEN();
        const outcome = await inFlight.track(handlePin(deps, scannerId, id, form.get('pin') ?? '', null));
        if (outcome.type === 'payment-result') {
          deps.notify(scannerId, outcome); // a replay too: the scanner may have missed the first
          // and again when the scanner next connects, should it have no connection now
          await rememberPageResult(deps, scannerId, id).catch(() => {});
        }
        if (outcome.type === 'error' && outcome.code === 'RATE_LIMITED') return TOO_MANY();
        if (outcome.type === 'error' && outcome.code === 'DEVICE_REVOKED') return REVOKED();
        return html(outcome.type === 'payment-result' ? 200 : 409, renderOutcomePage(outcome));
      },
    },
  ];
}
