/**
 * The card verifier: the one set of rules by which a card payload and its card row are judged, for the scan
 * (S22) and again for the PIN (S25), in batches or one at a time. Decrypt → verify (BRIEF §2):
 *   1. admit: shape and version (no key needed, no crypto);
 *   2. open, in the crypto engine that holds the issuer keys (card-engine.ts): key state, tags, the binding of
 *      the two fields, Luhn; it answers with the card token, the last 4 digits and a check of the basic key;
 *   3. judge the card row: its basic-key check equals the opened one (constant time), the payload is the
 *      current generation under the current key, the card is active.
 * Every failure is a typed reason; the gateway decides how much of it a scanner may see.
 */
import { ScanpayError, isScanpayError, type ErrorCode } from '../core/errors.ts';
import type { CryptoCore } from '../core/types.ts';
import { CardCrypto } from './card-crypto.ts';
import { currentVerdict, judgeCardRow } from './card-legality.ts';
import { CARD_STATUS, type CardOpening, type PinChecked } from './card-engine.ts';
import type { IssuerKeyRing } from './key-ring.ts';
import { parsePayload, payloadFromText, type ParsedPayload } from './payload.ts';
import type { CardClaim, CardRecord, Store } from './store/types.ts';

export type IllegalReason = Extract<ErrorCode,
  | 'PAYLOAD_TOO_LARGE' | 'PAYLOAD_MALFORMED' | 'KEY_UNKNOWN' | 'KEY_RETIRED' | 'PAYLOAD_TAG_INVALID'
  | 'PAN_INVALID' | 'CARD_UNKNOWN' | 'BASIC_KEY_MISMATCH' | 'GENERATION_STALE' | 'CARD_BLOCKED' | 'CARD_LOCKED'>;

export type Verdict =
  | { legal: true; card: CardRecord; payload: ParsedPayload }
  | { legal: false; reason: IllegalReason };

/** A payload that has the shape of v1: its bytes (what the engine opens and the session keeps) and header values. */
export interface AdmittedPayload {
  bytes: Uint8Array;
  payload: ParsedPayload;
}

/** Step 1: shape and version. Failures here cost no crypto (they do not depend on a key id). */
export function admitPayload(scanned: string | Uint8Array): AdmittedPayload | IllegalReason {
  try {
    const bytes = typeof scanned === 'string' ? payloadFromText(scanned) : scanned;
    return { bytes, payload: parsePayload(bytes) };
  } catch (e) {
    if (isScanpayError(e)) return e.code as IllegalReason;
    throw e;
  }
}

/** Step 2's verdict: the key state first (its payload was opened under a dummy key), then tags and Luhn. */
export function openedVerdict(opening: CardOpening): IllegalReason | null {
  const { status } = opening;
  if (status & CARD_STATUS.KEY_UNKNOWN) return 'KEY_UNKNOWN';
  if (status & CARD_STATUS.KEY_RETIRED) return 'KEY_RETIRED';
  if (status === 0) return null;
  return status & (CARD_STATUS.PAN_TAG | CARD_STATUS.KEY_TAG) ? 'PAYLOAD_TAG_INVALID' : 'PAN_INVALID';
}

/** What an opened payload claims about its card row (step 3 compares it, in the store step that opens the session). */
export function claimOf(payload: ParsedPayload, opening: CardOpening): CardClaim {
  return { basicKeyCheck: opening.basicKeyCheck!, generation: payload.generation, keyId: payload.keyId };
}

/** Step 3: the row's basic-key check against the opened one (constant time), then generation and status. */
export function judgeCard(payload: ParsedPayload, opening: CardOpening, card: CardRecord | null): IllegalReason | null {
  return judgeCardRow(claimOf(payload, opening), card);
}

/**
 * S25: the payload kept on the session, admitted again against the card row as it is now (re-issued or
 * re-keyed since the scan). The engine then re-checks key state, tags, binding, basic key and PIN.
 */
export function admitForPin(payload: Uint8Array, card: CardRecord): ParsedPayload | IllegalReason {
  const admitted = admitPayload(payload);
  if (typeof admitted === 'string') return admitted;
  return currentVerdict(admitted.payload, card) ?? admitted.payload;
}

/** The engine's PIN answer: approved (null), a wrong PIN, or a card that fails DVD-1 otherwise. */
export function pinVerdict(checked: PinChecked): 'wrong' | 'invalid' | null {
  if (checked.status === 0) return null;
  return checked.status === CARD_STATUS.PVV ? 'wrong' : 'invalid';
}

export interface VerifierDeps {
  core: CryptoCore;
  keyRing: IssuerKeyRing;
  store: Store;
}

/**
 * Judges each scanned payload (QR text or raw bytes) against the store, on this thread (the issuer's own
 * process holds the key ring); verdicts come back in input order.
 */
export async function judgePayloads(deps: VerifierDeps, scanned: readonly (string | Uint8Array)[]): Promise<Verdict[]> {
  const verdicts: (Verdict | undefined)[] = new Array(scanned.length);
  const admitted: { index: number; payload: AdmittedPayload }[] = [];
  scanned.forEach((item, index) => {
    const result = admitPayload(item);
    if (typeof result === 'string') verdicts[index] = { legal: false, reason: result };
    else admitted.push({ index, payload: result });
  });
  const openings = new CardCrypto(deps.core, deps.keyRing).openCards(admitted.map(({ payload }) => payload.bytes));
  await Promise.all(openings.map(async (opening, i) => {
    const { index, payload } = admitted[i];
    const failure = openedVerdict(opening);
    if (failure) {
      verdicts[index] = { legal: false, reason: failure };
      return;
    }
    const card = await deps.store.getCard(opening.card!);
    const reason = judgeCard(payload.payload, opening, card);
    verdicts[index] = reason ? { legal: false, reason } : { legal: true, card: card!, payload: payload.payload };
  }));
  return verdicts as Verdict[];
}

/** One payload; throws the reason as a ScanpayError when it is illegal. */
export async function assertLegal(deps: VerifierDeps, scanned: string | Uint8Array): Promise<{ card: CardRecord; payload: ParsedPayload }> {
  const [verdict] = await judgePayloads(deps, [scanned]);
  if (!verdict.legal) throw new ScanpayError(verdict.reason);
  return verdict;
}

/** The PAN inside an authentic payload, whatever the card's state (for operators naming a card by its QR). */
export function panOfPayload(deps: Omit<VerifierDeps, 'store'>, scanned: string | Uint8Array): string {
  const admitted = admitPayload(scanned);
  if (typeof admitted === 'string') throw new ScanpayError(admitted);
  const kek = deps.keyRing.lookupForOpening(admitted.payload.keyId);
  if (typeof kek === 'string') throw new ScanpayError(kek);
  const [opened] = deps.core.dvd1OpenBatch([{ kek, ...admitted.payload.fields }]);
  opened.basicKey?.fill(0);
  const failure = openedVerdict({ status: opened.status, card: null, last4: null, basicKeyCheck: null });
  if (failure) throw new ScanpayError(failure);
  return new TextDecoder().decode(opened.pan!);
}
