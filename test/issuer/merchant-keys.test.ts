import { describe, expect, it } from 'vitest';
import { apiKeyHashKey, apiKeyId, newApiKey, verifyApiKey } from '../../issuer/merchant-keys.ts';

const hashKey = apiKeyHashKey(new Uint8Array(32).fill(7));

describe('merchant API keys', () => {
  it('a new key verifies against its record and names its merchant; the record holds no secret', () => {
    const made = newApiKey(hashKey, 'acme', 1_000);
    expect(made.key).toMatch(/^spk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(apiKeyId(made.key)).toBe(made.record.keyId);
    expect(JSON.stringify(made.record)).not.toContain(made.key.slice(22));
    expect(made.record).toMatchObject({ merchant: 'acme', createdAt: 1_000, expiresAt: null });
    expect(verifyApiKey(hashKey, made.key, made.record, 2_000)).toBe('acme');
  });

  it('refuses a changed secret, another key\'s record, another fleet key, no record, and a key past its end', () => {
    const made = newApiKey(hashKey, 'acme', 0);
    const other = newApiKey(hashKey, 'acme', 0);
    const last = made.key.at(-1) === 'A' ? 'B' : 'A';
    expect(verifyApiKey(hashKey, made.key.slice(0, -1) + last, made.record, 1)).toBeNull();
    expect(verifyApiKey(hashKey, made.key, other.record, 1)).toBeNull();
    expect(verifyApiKey(apiKeyHashKey(new Uint8Array(32).fill(8)), made.key, made.record, 1)).toBeNull();
    expect(verifyApiKey(hashKey, made.key, null, 1)).toBeNull();
    expect(verifyApiKey(hashKey, made.key, { ...made.record, expiresAt: 10 }, 9)).toBe('acme');
    expect(verifyApiKey(hashKey, made.key, { ...made.record, expiresAt: 10 }, 10)).toBeNull();
  });

  it('finds no id in what is not a key', () => {
    for (const s of ['', 'spk_', 'Bearer spk_0123456789abcdef_' + 'a'.repeat(43), 'spk_0123456789ABCDEF_' + 'a'.repeat(43), 'spk_0123456789abcdef_' + 'a'.repeat(42), 'spk_0123456789abcdef_' + 'a'.repeat(43) + '\n'])
      expect(apiKeyId(s)).toBeNull();
  });
});
