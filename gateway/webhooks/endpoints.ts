/**
 * Making and rotating a merchant's webhook endpoints, for the merchant API and the operator's CLI alike: the URL
 * checked (address-policy.ts), a new id and signing secret, the secret sealed before it reaches the store. The
 * secret in clear is returned once, for the one answer that shows it.
 * @example
 *   const made = await addEndpoint(store.webhooks, box, 'acme', 'https://hooks.acme.example/scanpay', { allowPrivate: false }, Date.now());
 *   if (made.ok) show(made.secret);
 */
import { randomBytes } from 'node:crypto';
import type { WebhookEndpoint, WebhookStore } from '../../issuer/store/index.ts';
import { MAX_WEBHOOK_ENDPOINTS } from '../../protocol/merchant-api.ts';
import { checkEndpointUrl, type UrlPolicy } from './address-policy.ts';
import { newSigningSecret, type WebhookSecretBox } from './secrets.ts';

export type AddedEndpoint =
  | { ok: true; endpoint: WebhookEndpoint; secret: string }
  | { ok: false; refusal: 'INVALID_URL'; problem: string }
  | { ok: false; refusal: 'TOO_MANY_WEBHOOK_ENDPOINTS' };

export async function addEndpoint(webhooks: WebhookStore, box: WebhookSecretBox, merchant: string, url: string, policy: UrlPolicy, now: number): Promise<AddedEndpoint> {
  const checked = checkEndpointUrl(url, policy);
  if ('problem' in checked) return { ok: false, refusal: 'INVALID_URL', problem: checked.problem };
  const id = `we_${randomBytes(16).toString('hex')}`;
  const secret = newSigningSecret();
  const endpoint: WebhookEndpoint = { id, merchant, url: checked.url, createdAt: now, secrets: [{ sealed: box.seal(merchant, id, secret), expiresAt: null }] };
  if (!(await webhooks.addEndpoint(endpoint, MAX_WEBHOOK_ENDPOINTS))) return { ok: false, refusal: 'TOO_MANY_WEBHOOK_ENDPOINTS' };
  return { ok: true, endpoint, secret };
}

/** A new secret for the endpoint; the previous one signs too for `graceMs`. Null for an unknown endpoint. */
export async function rotateEndpointSecret(
  webhooks: WebhookStore, box: WebhookSecretBox, merchant: string, id: string, graceMs: number, now: number,
): Promise<{ endpoint: WebhookEndpoint; secret: string } | null> {
  const secret = newSigningSecret();
  const endpoint = await webhooks.rotateSecret(merchant, id, box.seal(merchant, id, secret), now + graceMs);
  return endpoint && { endpoint, secret };
}

/** The secrets an endpoint signs with at `now`, in clear: the current one, and the previous one during its grace. */
export function signingSecrets(box: WebhookSecretBox, endpoint: WebhookEndpoint, now: number): string[] {
  return endpoint.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).map((s) => box.open(endpoint.merchant, endpoint.id, s.sealed));
}
