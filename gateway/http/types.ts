/** HTTP as the route handlers see it: no transport types, so handlers run in tests without a socket. */
export interface HttpRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Uint8Array; // empty for GET; capped by the transport (its listener's ListenerAnswers.maxBodyBytes)
  contentType: string;
  /** The request's Origin header ('' when absent). */
  origin: string;
  /** Sec-Fetch-Site ('' when absent): 'same-origin', 'cross-site', … */
  fetchSite: string;
  /** Authorization header ('' when absent). */
  authorization: string;
  /** Idempotency-Key header ('' when absent): the merchant API's POSTs. */
  idempotencyKey: string;
  /** The peer's address as text (behind a load balancer: the balancer's). */
  remoteAddress: string;
}

export interface HttpResponse {
  status: number;
  contentType: string;
  body: string | Uint8Array;
  headers?: Record<string, string>;
}

export type HttpHandler = (req: HttpRequest) => Promise<HttpResponse>;

export interface HttpRoute {
  method: 'get' | 'post' | 'delete';
  pattern: string; // uWS-style: /auth/:session
  handler: HttpHandler;
}

export const MAX_BODY_BYTES = 4096;

/** How a listener answers what no route takes, and the largest body it reads. */
export interface ListenerAnswers {
  maxBodyBytes: number;
  /** No route has the path. */
  notFound: HttpResponse;
  /** A route has the path, not the method (`allowed`: its methods, upper case); absent: notFound. */
  methodNotAllowed?: (allowed: string[]) => HttpResponse;
  /** The body is over maxBodyBytes. */
  bodyTooLarge: HttpResponse;
  /** A handler threw. */
  internalError: HttpResponse;
}

export const html = (status: number, body: string): HttpResponse => ({
  status,
  contentType: 'text/html; charset=utf-8',
  body,
  // the page holds a PIN form: never cache it, never frame it, no third-party anything
  headers: {
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
  },
});

/** A body from a status and a short reason, for the routes that answer without a page. */
export const text = (status: number, body: string, contentType = 'text/plain; charset=utf-8'): HttpResponse => ({ status, contentType, body });

/** The scanners' and the ops listener's answers: short plain text. */
export const PLAIN_ANSWERS: ListenerAnswers = {
  maxBodyBytes: MAX_BODY_BYTES,
  notFound: { status: 404, contentType: 'text/plain', body: 'not found' },
  bodyTooLarge: { status: 413, contentType: 'text/plain', body: 'body too large' },
  internalError: { status: 500, contentType: 'text/plain', body: 'internal error' },
};
