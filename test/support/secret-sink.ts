/**
 * One guard for the whole suite (issue 9, "no secret in any output"): tests register the secrets they make
 * — card numbers, basic keys, issuer and storage keys, fleet keys, device secrets — and every log line the
 * test gateways write, every frame a test scanner receives, every page and every metrics scrape is checked
 * against them. A leak is recorded, not thrown (a throwing log stream would break the gateway under test);
 * test/support/leak-guard.setup.ts fails the test file that leaked.
 * @example
 *   registerSecret('PAN of card 1', card.pan);
 *   inspectOutput('frame', text);     // records a leak if text holds a registered secret
 */
import { byteSpellings, panLeaks } from './leaks.ts';

const pans = new Set<string>();
/** Spellings of key bytes (hex, base64, …) → what they are. Raw latin1 spellings are left out: log text is UTF-8 JSON. */
const spellings = new Map<string, string>();
const leaks: string[] = [];

export function registerSecret(label: string, value: string | Uint8Array): void {
  if (typeof value === 'string') {
    if (/^[0-9]{16}$/.test(value)) pans.add(value);
    else spellings.set(value, label);
    return;
  }
  for (const spelling of byteSpellings(value).slice(1)) spellings.set(spelling, label);
}

/** A PIN in JSON output: a `pin` field with its digits (the logger censors the field; this checks it does). */
const PIN_FIELD = /"pin"\s*:\s*"[0-9]{4}"/;

export function inspectOutput(where: string, text: string): void {
  if (text.length === 0) return;
  if (PIN_FIELD.test(text)) leaks.push(`${where}: a PIN field`);
  if (pans.size > 0 && /[0-9]{4}/.test(text)) for (const finding of panLeaks(text, [...pans], { lastDigits: false })) leaks.push(`${where}: ${finding}`);
  for (const [spelling, label] of spellings) if (text.includes(spelling)) leaks.push(`${where}: ${label}`);
}

/** The leaks recorded since the last call, and forgets them. */
export function takeLeaks(): string[] {
  return leaks.splice(0);
}
