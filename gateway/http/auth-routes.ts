/** GET and POST /auth/:session — the authentication page (S24) and the PIN it submits (S25). */
import { maskPan } from '../../issuer/pan.ts';
import { renderAuthPage, renderNotice, renderOutcomePage } from '../auth-page/render.ts';
import type { FlowDeps } from '../flow/deps.ts';
import { pageTokenMatches } from '../flow/page-token.ts';
import { handlePin } from '../flow/pin.ts';
import { html, type HttpRoute } from './types.ts';

const SESSION_ID = /^[0-9a-f]{32}$/;
const GONE = () => html(404, renderNotice('Payment request not found', 'This payment request is unknown or has expired. Scan the card again.'));
const FORBIDDEN = () => html(403, renderNotice('Link not valid', 'Open the payment page from the terminal that scanned the card.'));

export function authRoutes(deps: FlowDeps, inFlight: { track<T>(work: Promise<T>): Promise<T> }, draining: () => boolean): HttpRoute[] {
  return [
    {
      method: 'get',
      pattern: '/auth/:session',
      async handler(req) {
        const id = req.params.session;
        if (!SESSION_ID.test(id)) return GONE();
        const session = await deps.store.getSession(id);
        if (!session) return GONE();
        const token = req.query.get('t');
        if (!pageTokenMatches(deps.core, deps.pageKey, id, session.scannerId, token)) return FORBIDDEN();
        return html(200, renderAuthPage({
          sessionId: id, token: token!, merchant: session.merchant, amount: session.amount,
          currency: session.currency, maskedPan: maskPan(session.pan), expiresAt: session.expiresAt,
        }));
      },
    },
    {
      method: 'post',
      pattern: '/auth/:session',
      async handler(req) {
        const id = req.params.session;
        if (!SESSION_ID.test(id)) return GONE();
        if (draining()) return html(503, renderNotice('Please try again', 'The payment service is restarting. Submit the PIN again in a moment.'));
        if (!req.contentType.startsWith('application/x-www-form-urlencoded')) {
          return html(415, renderNotice('Unsupported form', 'Submit the PIN from the payment page.'));
        }
        const form = new URLSearchParams(new TextDecoder().decode(req.body));
        const session = await deps.store.getSession(id);
        if (!session) return GONE();
        if (!pageTokenMatches(deps.core, deps.pageKey, id, session.scannerId, form.get('t'))) return FORBIDDEN();
        const outcome = await inFlight.track(handlePin(deps, session.scannerId, id, form.get('pin') ?? '', null));
        if (outcome.type === 'payment-result') deps.notify(session.scannerId, outcome);
        return html(outcome.type === 'payment-result' ? 200 : 409, renderOutcomePage(outcome));
      },
    },
  ];
}
