/**
 * Budgets per caller address, held in this process: for callers that have not authenticated (a scanner upgrade
 * whose token is refused, a page request without its token), so that a flood from one address is answered from
 * memory once its budget is spent and never reaches the store. GCRA, as the store's takeRate: `burst` at once,
 * then `perSecond`. A caller back to a full budget is forgotten, and the map holds at most `maxCallers`
 * (least recently charged first out), so a flood of distinct addresses costs bounded memory; a caller pushed
 * out starts again with a full budget, which it would have as a new address anyway.
 * Per process: N gateways give a caller N budgets.
 * @example
 *   const failures = new AddressLimiter({ perSecond: 10, burst: 50 });
 *   if (!failures.take(callerKey(remoteAddress))) return tooMany();
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { RateLimit } from '../issuer/store/index.ts';

/** Callers remembered at most (each a short string and a number). */
export const MAX_CALLERS = 50_000;

export class AddressLimiter {
  /** Per caller, its GCRA theoretical arrival time (ms); Map order is least recently charged first. */
  readonly #arrivals = new Map<string, number>();
  readonly #intervalMs: number;
  readonly #toleranceMs: number;

  constructor(limit: RateLimit, private readonly maxCallers = MAX_CALLERS, private readonly now: () => number = Date.now) {
    if (!(limit.perSecond > 0) || !Number.isInteger(limit.burst) || limit.burst < 1) throw new RangeError('an address limit needs perSecond > 0 and an integer burst ≥ 1');
    this.#intervalMs = 1000 / limit.perSecond;
    this.#toleranceMs = this.#intervalMs * (limit.burst - 1);
  }

  /** Takes one unit of the caller's budget; false (and nothing taken) when it is spent. */
  take(caller: string): boolean {
    const now = this.now();
    const arrival = Math.max(this.#arrivals.get(caller) ?? now, now);
    if (arrival - now > this.#toleranceMs) return false;
    this.#arrivals.delete(caller); // re-inserted last: the most recently charged
    this.#arrivals.set(caller, arrival + this.#intervalMs);
    this.#forget(now);
    return true;
  }

  /** Gives back a unit taken by take() (the attempt it reserved for turned out not to be a failure). */
  refund(caller: string): void {
    const arrival = this.#arrivals.get(caller);
    if (arrival === undefined) return;
    const back = arrival - this.#intervalMs;
    if (back <= this.now()) this.#arrivals.delete(caller);
    else this.#arrivals.set(caller, back);
  }

  /** Callers held (diagnostics and tests). */
  get size(): number {
    return this.#arrivals.size;
  }

  /** Drops the least recently charged callers while they are back to a full budget, or while over the bound. */
  #forget(now: number): void {
    for (const [caller, arrival] of this.#arrivals) {
      if (this.#arrivals.size <= this.maxCallers && arrival > now) break;
      this.#arrivals.delete(caller);
    }
  }
}

/**
 * The caller an address stands for: an IPv4 address as is (also when written IPv4-mapped, as uWS does on a
 * dual-stack listener), an IPv6 address by its /64 (a host commonly holds a whole /64, so one budget per
 * address would be one per attempt). Anything else (not an address) as its first 64 characters.
 */
export function callerKey(remoteAddress: string): string {
  if (isIPv4(remoteAddress)) return remoteAddress;
  const groups = isIPv6(remoteAddress) ? ipv6Groups(remoteAddress) : null;
  if (!groups) return remoteAddress.slice(0, 64);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** The 8 groups of a valid IPv6 address in any spelling (`::` shorthand, an IPv4 tail). */
function ipv6Groups(address: string): number[] {
  let text = address.replace(/%.*$/, ''); // a zone index says nothing about the caller
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const [head, tail] = text.split('::');
  if (tail === undefined) return parse(head);
  const [h, t] = [parse(head), parse(tail)];
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}
