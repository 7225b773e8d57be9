/**
 * `scanpay merchant webhook …`: a merchant's webhook endpoints, as the operator manages them (docs/webhooks.md).
 * `add <merchant> <url>`: a new endpoint, its signing secret printed this once (the store keeps it sealed under a
 * key from the fleet key, so the command needs the fleet key the gateways use); `list <merchant>`: the endpoints,
 * never a secret; `remove <merchant> <id>`. The URL is checked as the merchant API checks it: https, and no
 * private or loopback address unless SCANPAY_WEBHOOK_ALLOW_PRIVATE=1.
 * Registered under the `merchant` command (made here if no other module made it first).
 */
import type { Command } from 'commander';
import { ScanpayError } from '../core/errors.ts';
import { addEndpoint } from '../gateway/webhooks/endpoints.ts';
import { WebhookSecretBox } from '../gateway/webhooks/secrets.ts';
import type { Store } from '../issuer/store/types.ts';
import { MERCHANT_BYTES, isMerchant } from '../protocol/values.ts';
import { loadFleetKey } from '../protocol/fleet-key.ts';
import { WEBHOOK_ENDPOINT_ID_PATTERN } from '../protocol/merchant-api.ts';
import { openPersistentStore, type GlobalOptions } from './context.ts';
import { usageError } from './errors.ts';
import { withJson, type Output } from './output.ts';

const ENDPOINT_ID = new RegExp(WEBHOOK_ENDPOINT_ID_PATTERN);

function checkedMerchant(merchant: string): string {
  if (!isMerchant(merchant)) throw usageError(`merchant id: 1 to ${MERCHANT_BYTES} of A-Z a-z 0-9 . _ -`);
  return merchant;
}

/** The store, with the merchant known in it (MERCHANT_UNKNOWN otherwise), closed when `body` ends. */
async function withMerchant<T>(opts: GlobalOptions, merchant: string, body: (store: Store) => Promise<T>): Promise<T> {
  const store = await openPersistentStore(opts, 'webhooks');
  try {
    if (!(await store.merchants.getMerchant(merchant))) throw new ScanpayError('MERCHANT_UNKNOWN', `no merchant ${merchant} in the store`);
    return await body(store);
  } finally {
    await store.close();
  }
}

export function webhookCommand(program: Command, out: Output): void {
  const merchant = program.commands.find((c) => c.name() === 'merchant') ?? program.command('merchant').description('merchants: their webhook endpoints');
  const webhook = merchant.command('webhook').description('a merchant\'s webhook endpoints: where its signed events are delivered (docs/webhooks.md)');
  const globals = () => program.opts<GlobalOptions>();

  withJson(webhook.command('add <merchant> <url>')
    .description('a new endpoint for the merchant; its signing secret is printed this once (needs the store and the gateways\' fleet key)')
    .option('--fleet-key-file <file>', 'fleet key file, 64 hex digits (default: SCANPAY_FLEET_KEY_FILE, or SCANPAY_FLEET_KEY as hex)'))
    .action(async (merchantArg: string, url: string, opts: { fleetKeyFile?: string; json?: boolean }) => {
      const id = checkedMerchant(merchantArg);
      const box = WebhookSecretBox.fromFleetKey(loadFleetKey({ file: opts.fleetKeyFile }));
      try {
        const made = await withMerchant(globals(), id, (store) => addEndpoint(store.webhooks, box, id, url, { allowPrivate: process.env.SCANPAY_WEBHOOK_ALLOW_PRIVATE === '1' }, Date.now()));
        if (!made.ok) {
          if (made.refusal === 'INVALID_URL') throw usageError(`${made.problem} (SCANPAY_WEBHOOK_ALLOW_PRIVATE=1 allows http and private addresses)`);
          throw new ScanpayError('BAD_ARGUMENT', `merchant ${id} has the most webhook endpoints it may have: remove one first`);
        }
        const { endpoint, secret } = made;
        if (opts.json) {
          out.json({ id: endpoint.id, merchant: id, url: endpoint.url, createdAt: endpoint.createdAt, secret });
          return;
        }
        out.line(`webhook endpoint ${endpoint.id} for ${id}: ${endpoint.url}`);
        out.line(`secret: ${secret}`);
        out.line('shown this once: give it to the receiver, which checks each delivery\'s Scanpay-Signature with it');
      } finally {
        box.close();
      }
    });

  withJson(webhook.command('list <merchant>').description('the merchant\'s endpoints, oldest first (never a secret)'))
    .action(async (merchantArg: string, opts: { json?: boolean }) => {
      const id = checkedMerchant(merchantArg);
      const endpoints = await withMerchant(globals(), id, (store) => store.webhooks.listEndpoints(id));
      const now = Date.now();
      const rows = endpoints.map((e) => ({
        id: e.id, url: e.url, createdAt: e.createdAt, secrets: e.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).length,
      }));
      if (opts.json) {
        out.json(rows);
        return;
      }
      if (rows.length === 0) out.line(`merchant ${id} has no webhook endpoints`);
      for (const r of rows) out.line(`${r.id}  ${r.url}  since ${new Date(r.createdAt).toISOString()}${r.secrets > 1 ? '  (rotating: two secrets)' : ''}`);
    });

  withJson(webhook.command('remove <merchant> <id>').description('stops deliveries to an endpoint'))
    .action(async (merchantArg: string, endpointId: string, opts: { json?: boolean }) => {
      const id = checkedMerchant(merchantArg);
      if (!ENDPOINT_ID.test(endpointId)) throw usageError('an endpoint id is we_ and 32 lowercase hex digits');
      const removed = await withMerchant(globals(), id, (store) => store.webhooks.deleteEndpoint(id, endpointId));
      if (opts.json) out.json({ id: endpointId, removed });
      else out.line(removed ? `removed webhook endpoint ${endpointId}` : `merchant ${id} has no webhook endpoint ${endpointId}: nothing changed`);
    });
}
