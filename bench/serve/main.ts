/**
 * `npm run bench:serve -- pool|baseline|floor [--cards N --cards-file FILE]`: one gateway in the foreground, for a
 * load generator other than ours, configured like `npm start` (PORT, OPS_PORT, REDIS_URL, SCANPAY_KEYRING_FILE,
 * SCANPAY_FLEET_KEY_FILE, SCANPAY_THREADS, the batch, rate and pace variables: README §Configuration, checked by
 * the same readStartConfig), with the crypto engine named: `pool` (the WASM core in the worker pool, what
 * `npm start` runs) or `baseline` (node:crypto inline on the main thread, no pool). It needs a key ring and a
 * fleet key: over Redis, `npx scanpay card issue` and `scanner provision` make the cards and scanner secrets;
 * on the embedded store, `--cards N --cards-file FILE` issues N cards into it first and writes them
 * ([{ "payload", "pin" }], mode 0600). `floor` is the architecture's floor instead (bench/floor/server.ts: the
 * same transport, Redis round trips and worker hops, nothing else), from the variables it has a use for (HOST,
 * PORT, OPS_HOST, OPS_PORT, REDIS_URL, SCANPAY_REDIS_PREFIX, SCANPAY_THREADS, the batch variables:
 * readFloorConfig); it needs no key ring and no cards. What it says goes to stderr, the log to stdout; Ctrl-C
 * stops it.
 */
import { parseArgs } from 'node:util';
import { ConfigError, readStartConfig, type StartConfig } from '../../gateway/config.ts';
import { createLogger } from '../../gateway/log.ts';
import { readFloorConfig, type FloorConfig } from '../floor/config.ts';
import { startFloor } from '../floor/server.ts';
import { openServedStore, serverNamed, startServedGateway, type EngineName, type ServerName } from './start.ts';

const say = (line: string) => process.stderr.write(`${line}\n`);
const MAX_CARDS = 1_000_000;

function fail(problems: string[], code: string): never {
  for (const problem of problems) say(`bench:serve: ${problem} [${code}]`);
  process.exit(2);
}

function stopOn(close: () => Promise<void>, flush: (done: () => void) => void = (done) => done()): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      close().then(() => flush(() => process.exit(0)), (e: Error) => {
        say(`bench:serve: shutdown failed: ${e.message}`);
        process.exit(1);
      });
    });
  }
}

/** The floor alone: it opens no card, so it takes no key ring, no fleet key and no --cards. */
async function serveFloor(values: { cards?: string; 'cards-file'?: string }): Promise<void> {
  let floorConfig: FloorConfig;
  try {
    if (values.cards !== undefined || values['cards-file'] !== undefined) throw new ConfigError(['the floor opens no card: leave out --cards and --cards-file']);
    floorConfig = readFloorConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) fail(e.problems, 'CONFIG');
    throw e;
  }
  const floor = await startFloor(floorConfig).catch((e: Error) => fail([`the floor did not start: ${e.message}`], 'START'));
  say('bench:serve: the architecture\'s floor: per payment 2 frames, 3 EVALSHA round trips and 2 batched piscina tasks, nothing else');
  say(`bench:serve: listening on ${floor.url}; ops http://${floorConfig.opsHost}:${floor.opsPort}; Redis keys under ${floorConfig.prefix}`);
  stopOn(floor.close);
}

async function serveGateway(engine: EngineName, values: { cards?: string; 'cards-file'?: string }): Promise<void> {
  let config: StartConfig;
  let cards: { count: number; file: string } | undefined;
  try {
    config = readStartConfig(process.env, process.argv);
    if ((values.cards === undefined) !== (values['cards-file'] === undefined)) throw new ConfigError(['--cards N and --cards-file FILE go together']);
    if (values.cards !== undefined) {
      if (!/^[0-9]+$/.test(values.cards) || Number(values.cards) < 1 || Number(values.cards) > MAX_CARDS) throw new ConfigError([`--cards must be a whole number from 1 to ${MAX_CARDS}`]);
      cards = { count: Number(values.cards), file: values['cards-file']! };
    }
  } catch (e) {
    if (e instanceof ConfigError) fail(e.problems, 'CONFIG');
    throw e;
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
  stopOn(() => gateway.close().then(() => store.close()), (done) => log.flush(done));
}

let server: ServerName;
let values: { cards?: string; 'cards-file'?: string };
try {
  const parsed = parseArgs({ allowPositionals: true, options: { cards: { type: 'string' }, 'cards-file': { type: 'string' } } });
  server = serverNamed(parsed.positionals[0]);
  values = parsed.values;
} catch (e) {
  if (e instanceof ConfigError) fail(e.problems, 'CONFIG');
  fail([(e as Error).message], 'USAGE'); // parseArgs: an unknown option or a missing value
}
if (server === 'floor') await serveFloor(values);
else await serveGateway(server, values);
