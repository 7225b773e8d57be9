/**
 * The `scanpay` CLI for operators. Every error is one line `scanpay: <message> [CODE]` on stderr; exit
 * codes 0 done, 1 refused or declined, 2 bad usage (cli/errors.ts, shown by `--help`).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { cardCommand } from './card.ts';
import { EXIT, EXIT_HELP, describeFailure, missingCommand, usageError } from './errors.ts';
import { fleetKeyCommand } from './fleet-key.ts';
import { keysCommand } from './keys.ts';
import { merchantCommand } from './merchant.ts';
import { paymentCommand } from './payment.ts';
import { receiptCommand } from './receipt.ts';
import { scanCommand } from './scan.ts';
import { scannerCommand } from './scanner.ts';
import { settlementCommand } from './settlement.ts';
import { webhookCommand } from './webhook.ts';
import { consoleOutput, type Output } from './output.ts';

/** The version in scanpay's package.json: the nearest one above this module (sources or a compiled copy). */
export function packageVersion(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'scanpay' && pkg.version) return pkg.version;
    } catch {
      // no package.json here: look one level up
    }
    if (dirname(dir) === dir) throw new Error('scanpay package.json not found');
  }
}

function ancestors(cmd: Command): Command[] {
  return cmd.parent ? [cmd.parent, ...ancestors(cmd.parent)] : [];
}

export function buildProgram(out: Output): Command {
  const program = new Command('scanpay')
    .description('scanpay operator CLI: issuer keys, cards, the scanner fleet key and scanners, merchants, payments and refunds, a simulated scanner')
    .version(packageVersion(), '-V, --version', 'print the scanpay version')
    .option('--redis <url>', 'Redis store URL (default: REDIS_URL)')
    .option('--prefix <prefix>', 'Redis key prefix (default: SCANPAY_REDIS_PREFIX or scanpay:)')
    .option('--keyring <file>', 'issuer key ring file (default: SCANPAY_KEYRING_FILE or ./scanpay-keyring.json)')
    .addHelpText('after', EXIT_HELP)
    .exitOverride()
    // commander's own errors are printed by main() in the one `scanpay: … [USAGE]` form; the one thing it writes
    // to stderr itself, the whole help when a command is missing, is that one line too (missingCommand below)
    .configureOutput({ writeOut: (s) => out.line(s.trimEnd()), writeErr: () => {}, outputError: () => {} });
  keysCommand(program, out);
  cardCommand(program, out);
  fleetKeyCommand(program, out);
  scanCommand(program, out);
  scannerCommand(program, out);
  merchantCommand(program, out);
  paymentCommand(program, out);
  receiptCommand(program, out);
  settlementCommand(program, out);
  webhookCommand(program, out); // after every other command: it joins the `merchant` command if one was made
  const everyCommand = (cmd: Command): Command[] => [cmd, ...cmd.commands.flatMap(everyCommand)];
  for (const cmd of everyCommand(program).slice(1)) cmd.addHelpText('after', EXIT_HELP);
  for (const cmd of everyCommand(program).filter((c) => c.commands.length > 0)) {
    const path = [cmd, ...ancestors(cmd)].reverse().map((c) => c.name()).join(' ');
    const subcommands = cmd.commands.map((c) => c.name());
    // commander ends a command given no subcommand (or `help <unknown>`) with its help on stderr and this
    // code; exit 0 is --help
    cmd.exitOverride((e) => {
      if (e.code !== 'commander.help' || e.exitCode === 0) throw e;
      if (cmd.args.length === 0) throw missingCommand(path, subcommands);
      throw usageError(`unknown command '${cmd.args.at(-1)}'; \`${path} --help\` lists the commands`);
    });
  }
  return program;
}

export async function main(argv: readonly string[], out: Output = consoleOutput): Promise<number> {
  try {
    await buildProgram(out).parseAsync([...argv]);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError && e.exitCode === 0) return EXIT.OK; // --help, --version
    const { line, exitCode } = describeFailure(e);
    out.error(line);
    return exitCode;
  }
}
