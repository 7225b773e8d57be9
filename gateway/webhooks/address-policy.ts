/**
 * Where the gateway may send a webhook (docs/webhooks.md §Where deliveries may go). A merchant names a URL; the
 * gateway then makes requests from inside the operator's network, so an endpoint pointing at 127.0.0.1, a cloud
 * metadata address (169.254.169.254) or a private service would turn webhooks into a way to reach them (SSRF).
 * Refused unless the operator allows private receivers (SCANPAY_WEBHOOK_ALLOW_PRIVATE=1, for on-premises
 * receivers and tests): every address that is not public unicast — loopback, private (RFC 1918, ULA), link-local,
 * CGNAT (100.64/10), multicast, unspecified, broadcast, reserved, documentation and benchmarking ranges, and the
 * IPv6 forms that embed an IPv4 address (IPv4-mapped, IPv4-translated, IPv4-compatible, NAT64 64:ff9b::/96, 6to4
 * 2002::/16), judged
 * by the IPv4 address inside.
 *
 * The check is on the *resolved* address the connection is made to (http-delivery.ts resolves once, checks
 * every address, and connects to the one it checked), so a name that resolves to 127.0.0.1, or re-resolves
 * differently between check and connect (DNS rebinding), is refused too. URLs are checked once at registration
 * (scheme, no credentials, an IP literal's range) and their resolution at each delivery.
 * @example
 *   if (isForbiddenAddress('::ffff:127.0.0.1')) …              // true
 *   const checked = checkEndpointUrl('https://hooks.example/x', { allowPrivate: false });   // { url } or { problem }
 */
import { BlockList, isIP } from 'node:net';
import { MAX_WEBHOOK_URL } from '../../issuer/store/validate.ts';

const V4_RANGES: [string, number][] = [
  ['0.0.0.0', 8], // "this" network, unspecified
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255 broadcast
];
const V6_RANGES: [string, number][] = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
  ['2001:db8::', 32], // documentation
  ['100::', 64], // discard
];

const v4 = new BlockList();
for (const [net, bits] of V4_RANGES) v4.addSubnet(net, bits, 'ipv4');
const v6 = new BlockList();
for (const [net, bits] of V6_RANGES) v6.addSubnet(net, bits, 'ipv6');

/** The 8 groups of an IPv6 address (with an embedded dotted IPv4 tail resolved), or null. */
function groups(address: string): number[] | null {
  let text = address.toLowerCase().split('%')[0]!;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const o = dotted[1]!.split('.').map(Number);
    text = `${text.slice(0, -dotted[1]!.length)}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, null];
  const h = head ? head.split(':') : [];
  const t = tail === null ? [] : tail ? tail.split(':') : [];
  const fill = tail === null ? 0 : 8 - h.length - t.length;
  const all = [...h, ...Array(fill).fill('0'), ...t].map((g) => parseInt(g, 16));
  return all.length === 8 && all.every((g) => g >= 0 && g <= 0xffff) ? all : null;
}

/** The IPv4 address an IPv6 one embeds (mapped, translated, compatible, NAT64, 6to4), or null. */
function embeddedV4(g: number[]): string | null {
  const quad = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return quad(g[6]!, g[7]!); // ::ffff:a.b.c.d
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return quad(g[6]!, g[7]!); // ::ffff:0:a.b.c.d (IPv4-translated, SIIT)
  if (zeros(0, 6)) return quad(g[6]!, g[7]!); // ::a.b.c.d (and :: and ::1, caught by the v6 list first)
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return quad(g[6]!, g[7]!); // NAT64
  if (g[0] === 0x2002) return quad(g[1]!, g[2]!); // 6to4
  return null;
}

/** True for every address that is not public unicast (or not an IP address at all). */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return v4.check(address, 'ipv4');
  if (family !== 6) return true;
  if (v6.check(address, 'ipv6')) return true;
  const g = groups(address);
  if (g === null) return true;
  const inner = embeddedV4(g);
  return inner !== null && v4.check(inner, 'ipv4');
}

export interface UrlPolicy {
  /** SCANPAY_WEBHOOK_ALLOW_PRIVATE=1: private and loopback receivers, and http, allowed. */
  allowPrivate: boolean;
}

/**
 * A URL a merchant may register: http(s) only, https unless private receivers are allowed, no user or
 * password in it, no fragment, at most MAX_WEBHOOK_URL characters, and not an IP literal in a refused range.
 * The problem names the rule, never echoes the URL.
 */
export function checkEndpointUrl(raw: string, policy: UrlPolicy): { url: string } | { problem: string } {
  if (raw.length > MAX_WEBHOOK_URL) return { problem: `url: at most ${MAX_WEBHOOK_URL} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: 'url: not an absolute URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { problem: 'url: only https (or http) URLs are delivered to' };
  if (url.protocol === 'http:' && !policy.allowPrivate) return { problem: 'url: must be https (http only where the operator allows private receivers)' };
  if (url.username || url.password) return { problem: 'url: must not hold a user name or password' };
  if (url.hash) return { problem: 'url: must not have a fragment' };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) return { problem: 'url: has no host' };
  if (!policy.allowPrivate && (isIP(host) ? isForbiddenAddress(host) : host === 'localhost' || host.endsWith('.localhost'))) {
    return { problem: 'url: points at a loopback, private or reserved address' };
  }
  return { url: url.href };
}
