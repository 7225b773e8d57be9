/**
 * Fuzz target: the authentication page's PIN POST (`POST /auth/:session`), black box over HTTP against a
 * real gateway (gateway-bench.ts). Inputs: form bodies built from the page's own fields and mutated
 * (token damaged or missing, PIN not 4 digits, fields repeated, percent-encoding broken), random bytes,
 * bodies past the size cap, random content types, and paths naming the owner's sessions, unknown
 * sessions or no session at all.
 * Invariants: every answer is a 4xx (the fuzzer never holds a right token *and* a 4-digit PIN: those cases
 * are a real PIN attempt, not bad input, and are skipped), the gateway keeps answering, no card and no
 * owner session changed; at the end the owner still pays its session.
 */
import { isUtf8Form } from '../../../gateway/http/media-type.ts';
import fc from 'fast-check';
import { gatewayBench } from './gateway-bench.ts';
import { timed, type FuzzOptions, type FuzzReport } from './harness.ts';
import { alphabetOf, mutatedBytes, mutatedText } from './mutate.ts';

/** The transport's body cap (gateway/http MAX_BODY_BYTES, docs): bodies around and past it are tried. */
const MAX_BODY_BYTES = 4096;
const FORM = 'application/x-www-form-urlencoded';
const FORM_CHARS = 'pint=&%0123456789abcdef+;';

export async function fuzzPagePost(opts: FuzzOptions): Promise<FuzzReport> {
  const bench = await gatewayBench();
  const base = bench.fx.gateway.url;
  const pages = bench.sessions.map((s) => ({ id: s.session, token: new URL(s.url).searchParams.get('t') ?? '' }));
  const tokenOf = new Map(pages.map((p) => [p.id, p.token]));
  const bodies = pages.flatMap((p) => [`pin=12a4&t=${p.token}`, `t=${p.token}&pin=`, `pin=1234&t=${p.token.slice(1)}0`, `pin=1234`]);
  const encoder = new TextEncoder();

  const path = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...pages.map((p) => `/auth/${p.id}`)) },
    { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-f]{32}$/).map((id) => `/auth/${id}`) },
    { weight: 1, arbitrary: mutatedText(pages.map((p) => `/auth/${p.id}`), alphabetOf('/auth0123456789abcdef%.')).map((p) => (p.startsWith('/') ? p : `/${p}`)) },
  );
  const body = fc.oneof(
    { weight: 6, arbitrary: mutatedText(bodies, alphabetOf(FORM_CHARS)).map((t) => encoder.encode(t)) },
    { weight: 2, arbitrary: mutatedBytes(bodies.map((b) => encoder.encode(b))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.integer({ min: MAX_BODY_BYTES - 8, max: 4 * MAX_BODY_BYTES }).map((n) => encoder.encode(`pin=1&t=${'a'.repeat(n)}`)) },
  );
  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(FORM, `${FORM}; charset=utf-8`) },
    { weight: 1, arbitrary: fc.constantFrom('', 'text/plain', 'multipart/form-data; boundary=x', 'application/json', 'APPLICATION/X-WWW-FORM-URLENCODED') },
    { weight: 1, arbitrary: fc.stringMatching(/^[!-~]{0,60}$/) },
  );

  // the page's own origin mostly (a gateway may refuse cross-site posts first), sometimes another or none
  const origin = fc.oneof(
    { weight: 6, arbitrary: fc.constant<Record<string, string>>({ origin: new URL(base).origin }) },
    { weight: 1, arbitrary: fc.constantFrom<Record<string, string>>({}, { origin: 'null' }, { origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-origin' }) },
  );

  /** A real PIN attempt (right token, 4-digit PIN, form content type, an owner session): not bad input. */
  const isRealAttempt = (p: string, b: Uint8Array, ct: string): boolean => {
    const id = /^\/auth\/([0-9a-f]{32})$/.exec(p)?.[1];
    // the gateway's own media-type rule: case-insensitive, parameters parsed (`Application/X-WWW-Form-URLEncoded` is a form)
    if (!id || !tokenOf.has(id) || !isUtf8Form(ct)) return false;
    const form = new URLSearchParams(new TextDecoder().decode(b));
    return form.get('t') === tokenOf.get(id) && /^[0-9]{4}$/.test(form.get('pin') ?? '');
  };

  try {
    return await timed('page-post', opts, async (seed, outcomes) => {
      await fc.assert(fc.asyncProperty(path, body, contentType, origin, async (p, b, ct, from) => {
        if (isRealAttempt(p, b, ct)) {
          outcomes.add('skipped:real-attempt');
          return;
        }
        const res = await fetch(`${base}${p}`, { method: 'POST', body: Buffer.from(b), headers: { ...from, ...(ct ? { 'content-type': ct } : {}) } });
        await res.arrayBuffer();
        if (res.status < 400 || res.status >= 500) throw new Error(`POST ${p} (${ct}) answered ${res.status}`);
        outcomes.add(String(res.status));
        await bench.unchanged();
      }), { numRuns: opts.runs, seed });
      await bench.stillServes();
      return opts.runs;
    });
  } finally {
    await bench.close();
  }
}
