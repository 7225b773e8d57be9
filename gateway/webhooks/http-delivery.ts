/**
 * One webhook POST, bounded in every way a hostile receiver could stretch it (docs/webhooks.md §Limits): one
 * deadline over connect, TLS, request and answer; at most `maxResponseBytes` of the answer read (then the socket
 * is dropped: a 1 GB answer costs 64 KiB); a fresh connection per delivery (no pool for a receiver to hold); no
 * redirect followed (a 3xx is a failure, so a receiver cannot bounce the request to loopback); and, unless private
 * receivers are allowed, the host resolved once here, every address it resolves to checked
 * (address-policy.ts), and the connection made to the address checked (a custom `lookup`: Node connects to what
 * it returns, so a second resolution cannot rebind the name). The status decides: 2xx delivered, anything else,
 * a timeout or a network error failed (retried by the caller's schedule).
 * @example
 *   const r = await postWebhook('https://hooks.example/x', body, headers, { timeoutMs: 10_000, maxResponseBytes: 65_536, allowPrivate: false });
 *   if (r.delivered) …   else log(r.reason)
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isForbiddenAddress } from './address-policy.ts';

export interface DeliveryLimits {
  timeoutMs: number;
  maxResponseBytes: number;
  allowPrivate: boolean;
}

export type DeliveryResult =
  | { delivered: true; status: number }
  | { delivered: false; reason: 'status' | 'redirect' | 'timeout' | 'forbidden-address' | 'network' | 'bad-url'; status?: number };

class ForbiddenAddress extends Error {
  constructor() {
    super('the receiver resolves to a loopback, private or reserved address');
  }
}

/** Resolves like dns.lookup, refuses a name with any forbidden address, and answers the first: the one connected to. */
function checkedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, verbatim: true, family: options.family }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      if (addresses.length === 0) return callback(new Error('no address'), '', 0);
      if (!allowPrivate && addresses.some((a) => isForbiddenAddress(a.address))) return callback(new ForbiddenAddress(), '', 0);
      const first = addresses[0]!;
      // options.all: Node (autoSelectFamily) wants a list; given only the checked address, it connects only there
      if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [first]);
      else callback(null, first.address, first.family);
    });
  };
}

export function postWebhook(target: string, body: string, headers: Record<string, string>, limits: DeliveryLimits): Promise<DeliveryResult> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return Promise.resolve({ delivered: false, reason: 'bad-url' });
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && limits.allowPrivate)) return Promise.resolve({ delivered: false, reason: 'bad-url' });
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // an IP literal is connected to without a lookup: checked here
  if (!limits.allowPrivate && isIP(host) && isForbiddenAddress(host)) return Promise.resolve({ delivered: false, reason: 'forbidden-address' });
  const options: RequestOptions = {
    method: 'POST',
    host,
    port: url.port || undefined,
    path: `${url.pathname}${url.search}`,
    agent: false, // a connection of its own, closed after
    lookup: checkedLookup(limits.allowPrivate),
    headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'scanpay-webhooks/1', connection: 'close' },
    maxHeaderSize: 16 * 1024,
  };
  return new Promise((resolve) => {
    let status: number | undefined;
    let settled = false;
    let req: ClientRequest | undefined;
    const finish = (result: DeliveryResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req?.destroy();
      resolve(result);
    };
    const byStatus = (code: number): DeliveryResult => {
      if (code >= 200 && code < 300) return { delivered: true, status: code };
      return { delivered: false, reason: code >= 300 && code < 400 ? 'redirect' : 'status', status: code };
    };
    const deadline = setTimeout(() => finish(status === undefined ? { delivered: false, reason: 'timeout' } : byStatus(status)), limits.timeoutMs);
    const onResponse = (res: IncomingMessage) => {
      status = res.statusCode ?? 0;
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > limits.maxResponseBytes) finish(byStatus(status!)); // enough: the rest is never read
      });
      res.on('end', () => finish(byStatus(status!)));
      res.on('error', () => finish(byStatus(status!)));
    };
    try {
      req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(options, onResponse);
    } catch {
      finish({ delivered: false, reason: 'network' });
      return;
    }
    req.on('error', (e) => finish(status !== undefined ? byStatus(status) : { delivered: false, reason: e instanceof ForbiddenAddress ? 'forbidden-address' : 'network' }));
    req.end(body);
  });
}
