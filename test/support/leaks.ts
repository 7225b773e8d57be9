/**
 * What a secret looks like when it leaks, for scans of logs, frames and store contents: every common
 * spelling of key bytes, and every way a card number shows more than its last 4 digits.
 * @example
 *   expect(panLeaks(haystack, pans)).toEqual([]);
 *   expect(byteSpellings(key).some((s) => haystack.includes(s))).toBe(false);
 */

/** Raw (latin1), hex in both cases, base64 and base64url, with and without padding. */
export function byteSpellings(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes);
  const base64 = b.toString('base64');
  return [b.toString('latin1'), b.toString('hex'), b.toString('hex').toUpperCase(), base64, base64.replace(/=+$/, ''), b.toString('base64url')];
}

/** Shortest run of a PAN's digits that counts as a leak wherever it stands (shorter runs collide with timestamps). */
const ANYWHERE_RUN = 8;
const BIN_DIGITS = 6;

/**
 * Where a PAN shows in `text`: whole (plain, or grouped by spaces, dashes or dots), any run of ≥ 8 of its
 * account digits (or the BIN with 4 of them) inside a number, or a standalone number (not part of a hex or base64 token) that is exactly its last 5 or
 * more digits (`lastDigits: false` leaves that rule out, for text full of short numbers such as pids). Names
 * the card by its last 4.
 */
export function panLeaks(text: string, pans: readonly string[], opts: { lastDigits?: boolean } = {}): string[] {
  const found: string[] = [];
  const numbers = text.match(/[0-9]+/g) ?? [];
  // standalone numbers only: not digit runs inside hex or base64 tokens (a session's payload is base64 at rest),
  // where a 5-digit run matches a suffix by chance (seen: 1 run in a few hundred, before '+' and '/' counted)
  const standalone = text.match(/(?<![0-9A-Za-z+/])[0-9]+(?![0-9A-Za-z+/])/g) ?? [];
  for (const pan of pans) {
    const shown = `card …${pan.slice(-4)}`;
    const grouped = [' ', '-', '.'].map((sep) => pan.replace(/(\d{4})(?!$)/g, `$1${sep}`));
    if ([pan, ...grouped].some((spelling) => text.includes(spelling))) found.push(`${shown}: whole`);
    // runs of the account digits (after the 6-digit BIN), and the BIN with the first 4 of them: a run across
    // the BIN's zeros alone ("00000123") turns up in any decimal such as 0.000001234 and would prove nothing
    const runs = new Set<string>([pan.slice(0, BIN_DIGITS + 4)]);
    for (let i = BIN_DIGITS; i + ANYWHERE_RUN <= pan.length; i++) runs.add(pan.slice(i, i + ANYWHERE_RUN));
    if (numbers.some((n) => n.length >= ANYWHERE_RUN && [...runs].some((run) => n.includes(run)))) found.push(`${shown}: a run of ${ANYWHERE_RUN}+ digits`);
    if (opts.lastDigits !== false && standalone.some((n) => n.length > 4 && n.length <= pan.length && pan.endsWith(n))) found.push(`${shown}: more than the last 4 digits`);
  }
  return found;
}
