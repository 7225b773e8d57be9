/** `scanpay keys …`: the issuer key ring file. Prints ids and states, never key bytes. */
import type { Command } from 'commander';
import { IssuerKeyRing, type IssuerKeyInfo } from '../issuer/key-ring.ts';
import { keyRingPath, loadKeyRing, type GlobalOptions } from './context.ts';
import { parseInteger, withJson, type Output } from './output.ts';
import { SECRET_FILE_MODE, checkSecretTarget } from './secret-file.ts';

/** The change a command made (one line), then the ring; with --json, both in one object. */
function printKeys(out: Output, json: boolean | undefined, keys: IssuerKeyInfo[], changed?: { line: string; fields: Record<string, unknown> }): void {
  if (json) {
    out.json({ ...changed?.fields, issuerKeys: keys });
    return;
  }
  if (changed) out.line(changed.line);
  for (const k of keys) out.line(`${String(k.id).padStart(5)}  ${k.state.padEnd(12)}  ${k.createdAt}`);
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
    .description('add a new active issuer key; the previous one becomes decrypt-only'))
    .action(async (opts: { json?: boolean }) => {
      const ring = await loadKeyRing(globals());
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

  withJson(keys.command('list').description('list issuer key ids and states'))
    .action(async (opts: { json?: boolean }) => {
      printKeys(out, opts.json, (await loadKeyRing(globals())).list());
    });
}
