/**
 * `npm run bench:serve -- pool|baseline [--cards N --cards-file FILE]`: one gateway in the foreground, for a
 * load generator other than ours, configured like `npm start` (PORT, OPS_PORT, REDIS_URL, SCANPAY_KEYRING_FILE,
 * SCANPAY_FLEET_KEY_FILE, SCANPAY_THREADS, the batch, rate and pace variables: README §Configuration, checked by
 * the same readStartConfig), with the crypto engine named: `pool` (the WASM core in the worker pool, what
 * `npm start` runs) or `baseline` (node:crypto inline on the main thread, no pool). It needs a key ring and a
 * fleet key: over Redis, `npx scanpay card issue` and `scanner provision` make the cards and scanner secrets;
 * on the embedded store, `--cards N --cards-file FILE` issues N cards into it first and writes them
 * ([{ "payload", "pin" }], mode 0600). What it says goes to stderr, the log to stdout; Ctrl-C stops it.
 */
import { parseArgs } from 'node:util';
import { ConfigError, readStartConfig, type StartConfig } from '../../gateway/config.ts';
import { createLogger } from '../../gateway/log.ts';
import { engineNamed, openServedStore, startServedGateway, type EngineName } from './start.ts';

const say = (line: string) => process.stderr.write(`${line}\n`);
const MAX_CARDS = 1_000_000;

function fail(problems: string[], code: string): never {
  for (const problem of problems) say(`bench:serve: ${problem} [${code}]`);
  process.exit(2);
}

let engine: EngineName;
let config: StartConfig;
let cards: { count: number; file: string } | undefined;
try {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { cards: { type: 'string' }, 'cards-file': { type: 'string' } } });
  engine = engineNamed(positionals[0]);
  config = readStartConfig(process.env, process.argv);
  if ((values.cards === undefined) !== (values['cards-file'] === undefined)) throw new ConfigError(['--cards N and --cards-file FILE go together']);
  if (values.cards !== undefined) {
    if (!/^[0-9]+$/.test(values.cards) || Number(values.cards) < 1 || Number(values.cards) > MAX_CARDS) throw new ConfigError([`--cards must be a whole number from 1 to ${MAX_CARDS}`]);
    cards = { count: Number(values.cards), file: values['cards-file']! };
  }
} catch (e) {
  if (e instanceof ConfigError) fail(e.problems, 'CONFIG');
  fail([(e as Error).message], 'USAGE'); // parseArgs: an unknown option or a missing value
}

const log = createLogger();
const store = await openServedStore(config);
const gateway = await startServedGateway(engine, config, { store, logger: log, cards }).catch(async (e: Error) => {
  await store.close();
  if (e instanceof ConfigError) fail(e.problems, 'CONFIG');
  return fail([`the gateway did not start: ${e.message}`], 'START');
});

say(`bench:serve: ${engine === 'pool' ? 'WASM core in a piscina worker pool' : 'baseline, node:crypto inline on the main thread, no pool'}`);
say(`bench:serve: listening on ${gateway.url} (scanners: ${gateway.scannerUrl}); ops ${gateway.opsUrl}; store: ${store.description}`);
if (cards) say(`bench:serve: ${cards.count} cards issued, written to ${cards.file}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    gateway.close()
      .then(() => store.close())
      .then(() => log.flush(() => process.exit(0)), (e: Error) => {
        say(`bench:serve: shutdown failed: ${e.message}`);
        process.exit(1);
      });
  });
}
