/**
 * The wallet's steps on Redis (wallet-types.ts WalletStore): each one script on its card's slot
 * (redis-wallet-scripts.ts). An enrolment id names no shard, so `{w:id}:enrolment-card` maps it to its card: written
 * once, before the enrolment (a step that then writes none leaves it pointing at nothing, which reads as unknown),
 * and never changed, so reading it outside the atomic step that follows is safe.
 */
import { ScanpayError } from '../../core/errors.ts';
import { CARD_REFUSED } from '../payment.ts';
import type { RedisContext } from './redis-context.ts';
import { ENROLMENT_FIELDS, enrolmentFromValues, resultFromDecision, sessionKind, sessionToJson } from './redis-codec.ts';
import type { RateUnitArgs } from './redis-scripts.ts';
import { EXPIRED_SESSION_RETENTION_MS, USED_SESSION_RETENTION_MS, payloadDeadline } from './retention.ts';
import type { CodeRefusal, EnrolmentRecord, EnrolmentRevocation, NewEnrolment } from './wallet-types.ts';
import type { CodeConsumption, CodeUse, EnrolmentCompletion } from './types.ts';
import { checkedAttempt, checkedCardToken, checkedEnrolmentId, checkedNewEnrolment, checkedSessionId, checkedTime } from './validate.ts';

const REFUSED_CODES = [CARD_REFUSED.gone, CARD_REFUSED.blocked, CARD_REFUSED.locked] as const;
const CODE_REFUSALS = new Set<string>(['ENROLMENT_UNKNOWN', 'ENROLMENT_REVOKED', 'CARD_UNKNOWN', 'CARD_BLOCKED', 'CARD_LOCKED', 'CODE_USED', 'RATE_LIMITED']);

export class RedisWallet {
  constructor(private readonly ctx: RedisContext) {}

  async completeEnrolment(sessionId: string, newEnrolment: NewEnrolment, attempt: string, now: number): Promise<EnrolmentCompletion> {
    const { keys } = this.ctx;
    const sessionKey = keys.session(checkedSessionId(sessionId));
    const { id, wrappedPan } = checkedNewEnrolment(newEnrolment);
    checkedAttempt(attempt);
    checkedTime(now, 'now');
    // the session's card (it never changes): the enrolment's keys are on its slot
    const cardToken = await this.ctx.run((redis) => redis.hget(sessionKey, 'cardToken'));
    if (cardToken === null) throw new ScanpayError('BAD_ARGUMENT', 'no enrolment PIN attempt claimed this session');
    await this.#mapToCard(id, cardToken);
    const [kind, ...rest] = await this.ctx.durable('scanpayCompleteEnrolment',
      sessionKey, keys.sessionPayload(sessionId), keys.card(cardToken), keys.enrolment(cardToken, id), keys.cardEnrolments(cardToken), keys.walletsActive(cardToken),
      attempt, now, id, cardToken, ...REFUSED_CODES, Buffer.from(wrappedPan).toString('base64'),
    );
    if (kind === 'UNCLAIMED') throw new ScanpayError('BAD_ARGUMENT', 'no enrolment PIN attempt claimed this session');
    if (kind === 'EXISTS') throw new ScanpayError('BAD_ARGUMENT', 'enrolment id exists');
    if (kind === 'SETTLED') return { kind: 'settled', result: resultFromDecision(rest[0] ?? '') };
    const enrolment = enrolmentFromValues(rest);
    if (kind !== 'ENROLLED' || !enrolment) throw new ScanpayError('STORE_CORRUPT', 'completeEnrolment: unexpected answer');
    return { kind: 'enrolled', enrolment };
  }

  async getEnrolment(id: string): Promise<EnrolmentRecord | null> {
    const { keys } = this.ctx;
    const enrolmentId = checkedEnrolmentId(id);
    const cardToken = await this.ctx.run((redis) => redis.get(keys.enrolmentCard(enrolmentId)));
    if (cardToken === null) return null;
    return enrolmentFromValues(await this.ctx.run((redis) => redis.hmget(keys.enrolment(cardToken, enrolmentId), ...ENROLMENT_FIELDS)));
  }

  /** The card's index, then each row in one pipeline (all on the card's slot). */
  async listEnrolments(cardToken: string): Promise<EnrolmentRecord[]> {
    const { keys } = this.ctx;
    const token = checkedCardToken(cardToken);
    const ids = await this.ctx.run((redis) => redis.zrange(keys.cardEnrolments(token), 0, -1));
    if (ids.length === 0) return [];
    const rows = await this.ctx.run(async (redis) => {
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hmget(keys.enrolment(token, id), ...ENROLMENT_FIELDS);
      return (await pipeline.exec()) ?? [];
    });
    return rows.map(([error, values]) => {
      if (error) throw error;
      return enrolmentFromValues(values as (string | null)[]);
    }).filter((e): e is EnrolmentRecord => e !== null);
  }

  async revokeEnrolment(id: string, now: number): Promise<EnrolmentRevocation> {
    const { keys } = this.ctx;
    const enrolmentId = checkedEnrolmentId(id);
    checkedTime(now, 'now');
    const cardToken = await this.ctx.run((redis) => redis.get(keys.enrolmentCard(enrolmentId)));
    if (cardToken === null) return 'unknown';
    return await this.ctx.durable('scanpayRevokeEnrolment', keys.enrolment(cardToken, enrolmentId), keys.walletsActive(cardToken), now, enrolmentId) as EnrolmentRevocation;
  }

  /** `use` checked and its rate units prepared by RedisStore (on a cluster taken already: none here). */
  async consumeCode(use: CodeUse, units: RateUnitArgs): Promise<CodeConsumption> {
    const { keys } = this.ctx;
    const { enrolmentId, counter, session: s, claim } = use;
    const [kind, ...rest] = await this.ctx.durable('scanpayConsumeCode',
      keys.enrolment(s.cardToken, enrolmentId), keys.card(s.cardToken), keys.session(s.id), keys.sessionPayload(s.id),
      s.cardToken, counter, sessionToJson(s), s.deviceId, s.expiresAt, s.expiresAt + (claim ? USED_SESSION_RETENTION_MS : EXPIRED_SESSION_RETENTION_MS), s.merchant,
      Buffer.from(s.payload).toString('base64'), payloadDeadline(s), claim ?? '', Date.now(), ...sessionKind(s), ...units,
    );
    if (kind === 'EXISTS') throw new ScanpayError('BAD_ARGUMENT', 'session id exists');
    if (kind !== 'OK') {
      if (!CODE_REFUSALS.has(kind ?? '')) throw new ScanpayError('STORE_CORRUPT', 'consumeCode: unexpected answer');
      return { ok: false, reason: kind as CodeRefusal };
    }
    const enrolment = enrolmentFromValues(rest);
    if (!enrolment) throw new ScanpayError('STORE_CORRUPT', 'consumeCode: unexpected answer');
    return { ok: true, enrolment };
  }

  /** The id → card index, once (SET NX); an id already mapped to another card is refused. */
  async #mapToCard(id: string, cardToken: string): Promise<void> {
    const key = this.ctx.keys.enrolmentCard(id);
    const set = await this.ctx.run((redis) => redis.set(key, cardToken, 'NX'));
    if (set === 'OK') return;
    if ((await this.ctx.run((redis) => redis.get(key))) !== cardToken) throw new ScanpayError('BAD_ARGUMENT', 'enrolment id exists');
  }
}
