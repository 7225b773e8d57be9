/**
 * S22: is a scanned card payload legal? Decrypt → verify (BRIEF §2), many payloads at a time:
 * shape and key id in TypeScript, then one WASM call opens every payload (tags, binding, Luhn), then
 * the store rows are read in parallel and each basic key compared in constant time.
 * Every failure is a typed reason; the gateway decides how much of it a scanner may see.
 */
import { ScanpayError, isScanpayError, type ErrorCode } from '../core/errors.ts';
import { DVD1_STATUS, type CryptoCore, type Dvd1OpenInput, type Dvd1Opened } from '../core/types.ts';
import type { IssuerKeyRing } from './key-ring.ts';
import { parsePayload, payloadFromText, type ParsedPayload } from './payload.ts';
import { unwrapBasicKey } from './card-secrets.ts';
import type { CardRecord, Store } from './store/types.ts';

export type IllegalReason = Extract<ErrorCode,
  | 'PAYLOAD_TOO_LARGE' | 'PAYLOAD_MALFORMED' | 'KEY_UNKNOWN' | 'KEY_RETIRED' | 'PAYLOAD_TAG_INVALID'
  | 'PAN_INVALID' | 'CARD_UNKNOWN' | 'BASIC_KEY_MISMATCH' | 'GENERATION_STALE' | 'CARD_BLOCKED' | 'CARD_LOCKED'>;

export type Verdict =
  | { legal: true; card: CardRecord; payload: ParsedPayload }
  | { legal: false; reason: IllegalReason };

export interface LegalityDeps {
  core: CryptoCore;
  keyRing: IssuerKeyRing;
  store: Store;
  /** Where DVD-1 steps 1–2 run: the gateway's worker pool; by default, this thread's core in one call. */
  openPayloads?: (inputs: Dvd1OpenInput[]) => Promise<Dvd1Opened[]>;
}

type Pending = { payload: ParsedPayload; kek: Uint8Array };

/** Shape, version and key state: failures here cost no crypto. */
function admit(keyRing: IssuerKeyRing, scanned: string | Uint8Array): Pending | IllegalReason {
  try {
    const payload = parsePayload(typeof scanned === 'string' ? payloadFromText(scanned) : scanned);
    return { payload, kek: keyRing.keyForOpening(payload.keyId) };
  } catch (e) {
    if (isScanpayError(e)) return e.code as IllegalReason;
    throw e;
  }
}

function openFailure(status: number): IllegalReason {
  return status & (DVD1_STATUS.PAN_TAG | DVD1_STATUS.KEY_TAG) ? 'PAYLOAD_TAG_INVALID' : 'PAN_INVALID';
}

/** Card row checks after the payload opened: the crypto binding first, then generation and status. */
function judgeAgainstCard(deps: LegalityDeps, payload: ParsedPayload, card: CardRecord | null, basicKey: Uint8Array): Verdict {
  if (!card) return { legal: false, reason: 'CARD_UNKNOWN' };
  let stored: Uint8Array | null = null;
  try {
    stored = unwrapBasicKey(deps.core, deps.keyRing.storageKey, card.pan, card.wrappedBasicKey);
    if (!deps.core.constantTimeEqual(stored, basicKey)) return { legal: false, reason: 'BASIC_KEY_MISMATCH' };
  } catch (e) {
    if (isScanpayError(e, 'AEAD_TAG_INVALID')) return { legal: false, reason: 'BASIC_KEY_MISMATCH' }; // row altered at rest
    throw e;
  } finally {
    stored?.fill(0);
  }
  if (payload.generation !== card.generation || payload.keyId !== card.keyId) return { legal: false, reason: 'GENERATION_STALE' };
  if (card.status === 'blocked') return { legal: false, reason: 'CARD_BLOCKED' };
  if (card.status === 'locked') return { legal: false, reason: 'CARD_LOCKED' };
  return { legal: true, card, payload };
}

/** Judges each scanned payload (QR text or raw bytes); verdicts come back in input order. */
export async function judgePayloads(deps: LegalityDeps, scanned: readonly (string | Uint8Array)[]): Promise<Verdict[]> {
  const verdicts: (Verdict | undefined)[] = new Array(scanned.length);
  const admitted: { index: number; pending: Pending }[] = [];
  scanned.forEach((item, index) => {
    const result = admit(deps.keyRing, item);
    if (typeof result === 'string') verdicts[index] = { legal: false, reason: result };
    else admitted.push({ index, pending: result });
  });

  const inputs: Dvd1OpenInput[] = admitted.map(({ pending }) => ({ kek: pending.kek, ...pending.payload.fields }));
  const opened = deps.openPayloads ? await deps.openPayloads(inputs) : deps.core.dvd1OpenBatch(inputs);
  const decoder = new TextDecoder();

  await Promise.all(opened.map(async (result, i) => {
    const { index, pending } = admitted[i];
    if (!result.ok) {
      verdicts[index] = { legal: false, reason: openFailure(result.status) };
      return;
    }
    const basicKey = result.basicKey!;
    try {
      const card = await deps.store.getCard(decoder.decode(result.pan!));
      verdicts[index] = judgeAgainstCard(deps, pending.payload, card, basicKey);
    } finally {
      basicKey.fill(0);
      result.pan!.fill(0);
    }
  }));
  return verdicts as Verdict[];
}

/** One payload; throws the reason as a ScanpayError when it is illegal. */
export async function assertLegal(deps: LegalityDeps, scanned: string | Uint8Array): Promise<{ card: CardRecord; payload: ParsedPayload }> {
  const [verdict] = await judgePayloads(deps, [scanned]);
  if (!verdict.legal) throw new ScanpayError(verdict.reason);
  return verdict;
}

/** The PAN inside an authentic payload, whatever the card's state (for operators naming a card by its QR). */
export function panOfPayload(deps: Omit<LegalityDeps, 'store'>, scanned: string | Uint8Array): string {
  const admitted = admit(deps.keyRing, scanned);
  if (typeof admitted === 'string') throw new ScanpayError(admitted);
  const [opened] = deps.core.dvd1OpenBatch([{ kek: admitted.kek, ...admitted.payload.fields }]);
  if (!opened.ok) throw new ScanpayError(openFailure(opened.status));
  opened.basicKey!.fill(0);
  return new TextDecoder().decode(opened.pan!);
}
