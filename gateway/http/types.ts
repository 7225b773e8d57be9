/** HTTP as the route handlers see it: no transport types, so handlers run in tests without a socket. */
export interface HttpRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Uint8Array; // empty for GET; capped by the transport (MAX_BODY_BYTES)
  contentType: string;
  /** The request's Origin header ('' when absent). */
  origin: string;
  /** Sec-Fetch-Site ('' when absent): 'same-origin', 'cross-site', … */
  fetchSite: string;
  /** Authorization header ('' when absent). */
  authorization: string;
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
  method: 'get' | 'post';
  pattern: string; // uWS-style: /auth/:session
  handler: HttpHandler;
}

export const MAX_BODY_BYTES = 4096;

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
