/**
 * GET and POST /auth/:session — the authentication page (S24) and the PIN it submits (S25).
 * The page token is checked first, in process (page-token.ts): a request without it (none, a wrong one,
 * another session's, a malformed session id) gets NOT_FOUND, the same bytes whatever the session's state, and
 * costs the store nothing; past its address's budget for such requests (in memory), 429. With the token:
 * a GET takes a unit of its address's view budget (in memory), then shows the form while the session is open,
 * else its outcome. A POST is refused unless it comes from the page itself (same Origin as PUBLIC_URL, or
 * Sec-Fetch-Site: same-origin) and is a UTF-8 form; with the token it takes a unit of its address's PIN-post
 * budget in the store; a malformed PIN gets the form again (400) and counts nothing; then the session's budget
 * in the store, and the attempt. A used session's page shows its outcome, never the form.
 * An open session of a revoked device takes no PIN (403).
 */
import { maskPan } from '../../issuer/pan.ts';
import type { RateTake, SessionView } from '../../issuer/store/index.ts';
import { GATEWAY_DEFAULTS, type PageLimits } from '../defaults.ts';
import { isPin, isSessionId } from '../../protocol/values.ts';
import { isDeviceId } from '../../protocol/scanner-token.ts';
import { AddressLimiter, callerKey } from '../address-limiter.ts';
import { renderAuthPage, renderNotice, renderOutcomePage } from '../auth-page/render.ts';
import { DEVICE_REVOKED_MESSAGE, type FlowDeps, type FrameRateUnit } from '../flow/deps.ts';
import { pageTokenMatches } from '../flow/page-token.ts';
import { handlePin, sessionOutcome } from '../flow/pin.ts';
import { rememberPageResult } from '../flow/status.ts';
import { isUtf8Form } from './media-type.ts';
import { html, type HttpRequest, type HttpResponse, type HttpRoute } from './types.ts';

// the notices a flood gets are rendered once
const NOT_FOUND_PAGE = renderNotice('Payment request not found', 'This payment request is unknown or has expired, or its link is incomplete. Scan the card again.');
const TOO_MANY_PAGE = renderNotice('Please wait', 'Too many attempts. Wait a moment and submit again.');
/** Every request without the page token, and a token whose session is gone: one answer, so it tells nothing. */
const NOT_FOUND = () => html(404, NOT_FOUND_PAGE);
const CROSS_SITE = () => html(403, renderNotice('Not allowed', 'Submit the PIN from the payment page itself.'));
function TOO_MANY(): HttpResponse {
  const page = html(429, TOO_MANY_PAGE);
  return { ...page, headers: { ...page.headers, 'retry-after': '1' } };
}
/** An open session of a device revoked since: no form, and no PIN taken (the POST gets this from handlePin's refusal). */
const REVOKED = () => html(403, renderOutcomePage({ v: 1, type: 'error', id: null, code: 'DEVICE_REVOKED', message: DEVICE_REVOKED_MESSAGE }));
const PENDING = () => html(409, renderNotice('Payment in progress', 'This payment is being processed. Reload the page in a moment to see its outcome.'));


/** A page POST's limits: its client address's PIN posts (over every session), then its session's. */
function pageRates(address: string, sessionId: string, limits: PageLimits): [RateTake, RateTake] {
  return [
    { key: `page-address:${address.replace(/[^A-Za-z0-9:._-]/g, '_')}`, limit: limits.perAddress },
    { key: `page-session:${sessionId}`, limit: limits.perSession },
  ];
}

/**
 * A page POST's rate units: its client address's (across every session) and its session's, taken inside the
 * attempt's store step; a PIN that never reaches the step takes them alone.
 */
function pageUnits(store: FlowDeps['store'], address: string, sessionId: string, limits: PageLimits): FrameRateUnit {
  const rates = pageRates(address, sessionId, limits);
  let taken: 'step' | Promise<boolean> | undefined;
  return {
    forStep: () => (taken === undefined ? ((taken = 'step'), rates) : []),
    alone() {
      if (taken === 'step') throw new Error('the page\'s rate units went to a store step');
      taken ??= (async () => {
        for (const rate of rates) if (!(await store.takeRate(rate.key, rate.limit))) return false;
        return true;
      })();
      return taken;
    },
    refusedInStep() {}, // a page POST over its budgets is answered 429; no scanner frame was refused
  };
}

/**
 * A browser's form post from our own page: its Origin is PUBLIC_URL's, or it says Sec-Fetch-Site: same-origin
 * (a page under a no-referrer policy, or a privacy setting, sends `Origin: null`). Neither header: refused. (The
 * wallet's POSTs are judged the same way: wallet-routes.ts.)
 */
export function fromOurPage(req: HttpRequest, publicOrigin: string): boolean {
  if (req.origin && req.origin !== 'null') return req.origin === publicOrigin && (req.fetchSite === '' || req.fetchSite === 'same-origin');
  return req.fetchSite === 'same-origin';
}

/** The holder's signed-receipt page of a session (gateway/http/receipt-routes.ts): the page's own token opens it. */
const receiptLink = (sessionId: string, token: string) => `/auth/${sessionId}/receipt?t=${token}`;

/** The page for a session the token opens: the form while it is open (with `status`, 400 when it is shown again), else its outcome. */
async function pageFor(deps: FlowDeps, view: SessionView, token: string, formStatus: 200 | 400 = 200): Promise<HttpResponse> {
  const { session } = view;
  if (view.state === 'pending') return PENDING();
  if (view.state === 'done') return html(200, renderOutcomePage(await sessionOutcome(deps, session.id, view.result!), receiptLink(session.id, token)));
  if (deps.revokedDevices.has(session.deviceId)) return REVOKED();
  return html(formStatus, renderAuthPage({
    sessionId: session.id, token, deviceId: session.deviceId, merchant: session.merchant, amount: session.amount,
    currency: session.currency, maskedPan: maskPan(session.last4), expiresAt: session.expiresAt,
    ...(formStatus === 400 ? { problem: 'PIN_FORMAT' } : {}),
  }));
}

export function authRoutes(deps: FlowDeps, inFlight: { track<T>(work: Promise<T>): Promise<T> }, draining: () => boolean, limits: PageLimits = GATEWAY_DEFAULTS.pageLimits): HttpRoute[] {
  const publicOrigin = () => new URL(deps.config.publicUrl).origin;
  const refused = new AddressLimiter(limits.refusedPerAddress ?? GATEWAY_DEFAULTS.pageLimits.refusedPerAddress);
  const views = new AddressLimiter(limits.viewsPerAddress ?? GATEWAY_DEFAULTS.pageLimits.viewsPerAddress);
  /** Whether the request carries its session's page token: an HMAC in process, no store access. */
  const opens = (id: string, token: unknown): token is string => isSessionId(id) && pageTokenMatches(deps.core, deps.pageKey, id, token);
  /** The answer to a request without the token: the same for all, from memory. */
  const notOpened = (req: HttpRequest) => (refused.take(callerKey(req.remoteAddress)) ? NOT_FOUND() : TOO_MANY());
  return [
    {
      method: 'get',
      pattern: '/auth/:session',
      async handler(req) {
        const id = req.params.session;
        const token = req.query.get('t');
        if (!opens(id, token)) return notOpened(req);
        if (!views.take(callerKey(req.remoteAddress))) return TOO_MANY();
        const view = await deps.store.getSession(id);
        return view ? pageFor(deps, view, token) : NOT_FOUND();
      },
    },
    {
      method: 'post',
      pattern: '/auth/:session',
      async handler(req) {
        const id = req.params.session;
        if (draining()) return html(503, renderNotice('Please try again', 'The payment service is restarting. Submit the PIN again in a moment.'));
        if (!fromOurPage(req, publicOrigin())) return CROSS_SITE();
        if (!isUtf8Form(req.contentType)) return html(415, renderNotice('Unsupported form', 'Submit the PIN from the payment page.'));
        const form = new URLSearchParams(new TextDecoder().decode(req.body));
        const token = form.get('t');
        if (!opens(id, token)) return notOpened(req);
        const pin = form.get('pin') ?? '';
        // a PIN that cannot be one is no attempt: the form again (or the outcome, once decided), nothing counted
        if (!isPin(pin)) {
          const [address] = pageRates(callerKey(req.remoteAddress), id, limits); // it still spends the address's PIN posts
          if (!(await deps.store.takeRate(address.key, address.limit))) return TOO_MANY();
          const view = await deps.store.getSession(id);
          return view ? pageFor(deps, view, token, 400) : NOT_FOUND();
        }
        // the form names the session's scanner; the attempt's store step checks that it is the session's own, so
        // a wrong one is refused there. Without it (a client of its own), one more store step looks it up.
        const named = form.get('scanner');
        const deviceId = isDeviceId(named) ? named : (await deps.store.getSession(id))?.session.deviceId;
        if (!deviceId) return NOT_FOUND();
        // the address's and the session's page budgets, taken inside the attempt's store step (one round trip)
        const units = pageUnits(deps.store, callerKey(req.remoteAddress), id, limits);
        const outcome = await inFlight.track(handlePin(deps, deviceId, id, pin, null, units, 'page'));
        if (outcome.type === 'error' && ['SESSION_UNKNOWN', 'SESSION_EXPIRED', 'SESSION_WRONG_SCANNER'].includes(outcome.code)) return NOT_FOUND();
        if (outcome.type === 'payment-result') {
          deps.notify(deviceId, outcome); // a replay too: the scanner may have missed the first
          // and again when the scanner next connects, should it have no connection now
          await rememberPageResult(deps, deviceId, id).catch(() => {});
        }
        if (outcome.type === 'error' && outcome.code === 'RATE_LIMITED') return TOO_MANY();
        if (outcome.type === 'error' && outcome.code === 'DEVICE_REVOKED') return REVOKED();
        return html(outcome.type === 'payment-result' ? 200 : 409, renderOutcomePage(outcome, receiptLink(id, token)));
      },
    },
  ];
}
