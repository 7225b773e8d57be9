/** `scanpay keys …`: the issuer key ring file. Prints ids, states and public keys, never secret key bytes. */
import type { Command } from 'commander';
import { IssuerKeyRing, type IssuerKeyInfo, type ReceiptKeyInfo } from '../issuer/key-ring.ts';
import { receiptKeysObject } from '../gateway/merchant-api/answers.ts';
import { keyRingPath, loadKeyRing, type GlobalOptions } from './context.ts';
import { parseInteger, withJson, type Output } from './output.ts';
import { SECRET_FILE_MODE, checkSecretTarget } from './secret-file.ts';

/** The change a command made (one line), then the ring; with --json, both in one object. */
function printKeys(out: Output, json: boolean | undefined, keys: IssuerKeyInfo[], changed?: { line: string; fields: Record<string, unknown> }, receiptKeys?: ReceiptKeyInfo[]): void {
  if (json) {
    out.json({ ...changed?.fields, issuerKeys: keys, ...(receiptKeys ? { receiptKeys } : {}) });
    return;
  }
  if (changed) out.line(changed.line);
  for (const k of keys) out.line(`${String(k.id).padStart(5)}  ${k.state.padEnd(12)}  ${k.createdAt}`);
  if (receiptKeys) {
    out.line('receipt keys (Ed25519):');
    for (const k of receiptKeys) out.line(`${String(k.id).padStart(5)}  ${k.state.padEnd(12)}  ${k.createdAt}  ${k.publicKey}`);
  }
}

export function keysCommand(program: Command, out: Output): void {
  const keys = program.command('keys').description('manage the issuer key ring file (ids and states only are ever printed)');
  const globals = () => program.opts<GlobalOptions>();

  withJson(keys.command('generate')
    .description('write a new key ring: one active issuer key and a storage key')
    .option('--force', 'overwrite an existing key ring file (every card issued under it becomes unreadable)'))
    .action(async (opts: { force?: boolean; json?: boolean }) => {
      const file = keyRingPath(globals());
      const replaced = checkSecretTarget(file, '--keyring', {
        replace: Boolean(opts.force),
        how: 'remove it or pass --keyring with another path; --force replaces it (every card issued under it becomes unreadable)',
      });
      const ring = IssuerKeyRing.generate();
      await ring.save(file);
      printKeys(out, opts.json, ring.list(), {
        line: `${replaced ? 'replaced' : 'wrote'} ${file} (mode ${SECRET_FILE_MODE})`,
        fields: { wrote: file, mode: SECRET_FILE_MODE, replaced },
      });
    });

  withJson(keys.command('rotate')
    .description('add a new active issuer key; the previous one becomes decrypt-only (--receipt: the receipt signing key instead)')
    .option('--receipt', 'rotate the Ed25519 receipt signing key: the previous one becomes verify-only (its public key stays published)'))
    .action(async (opts: { json?: boolean; receipt?: boolean }) => {
      const ring = await loadKeyRing(globals());
      if (opts.receipt) {
        const previous = ring.receiptPublicKeys().find((k) => k.state === 'active')?.id;
        const id = ring.rotateReceiptKey();
        await ring.save(keyRingPath(globals()));
        printKeys(out, opts.json, ring.list(), {
          line: `receipt key ${id} is now active${previous === undefined ? '' : `; receipt key ${previous} is now verify-only`}`,
          fields: { receiptActive: id, verifyOnly: previous ?? null },
        }, ring.receiptPublicKeys());
        return;
      }
      const previous = ring.list().find((k) => k.state === 'active')?.id;
      const id = ring.rotate();
      await ring.save(keyRingPath(globals()));
      printKeys(out, opts.json, ring.list(), {
        line: `key ${id} is now active${previous === undefined ? '' : `; key ${previous} is now decrypt-only`}`,
        fields: { active: id, decryptOnly: previous ?? null },
      });
    });

  withJson(keys.command('retire <id>')
    .description('retire a decrypt-only key: payloads sealed under it become illegal'))
    .action(async (idArg: string, opts: { json?: boolean }) => {
      const id = parseInteger(idArg, 'id', 1, 0xffff);
      const ring = await loadKeyRing(globals());
      const changed = ring.retire(id);
      if (changed) await ring.save(keyRingPath(globals()));
      printKeys(out, opts.json, ring.list(), {
        line: changed ? `key ${id} is now retired: payloads sealed under it are illegal` : `key ${id} was already retired: nothing changed`,
        fields: { action: 'retire', retired: id, changed: changed ? ['state'] : [] },
      });
    });

  withJson(keys.command('list').description('list issuer key ids and states, and the receipt keys (public halves)'))
    .action(async (opts: { json?: boolean }) => {
      const ring = await loadKeyRing(globals());
      printKeys(out, opts.json, ring.list(), undefined, ring.receiptPublicKeys());
    });

  withJson(keys.command('public')
    .description('print the receipt public keys; --json: the document GET /v1/receipt-keys and /receipt-keys serve (for `scanpay receipt verify --keys`)'),
  'print the published document (JSON)')
    .action(async (opts: { json?: boolean }) => {
      const published = (await loadKeyRing(globals())).receiptPublicKeys();
      if (opts.json) out.json(receiptKeysObject(published));
      else for (const k of published) out.line(`${String(k.id).padStart(5)}  ${k.state.padEnd(12)}  Ed25519  ${k.publicKey}`);
    });
}
