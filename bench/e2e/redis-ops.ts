/**
 * Redis commands per payment, seen by the server (MONITOR): one gateway on a private redis-server, one
 * scanner connection paying N payments back to back (scan → PIN → result), so the per-connection cost
 * (device token) and the per-payment cost are told apart. Two counts: the commands the gateway sends
 * (its round trips, scripts counted once) and the commands the server runs (inside scripts too), each script's
 * inner calls told apart: Redis 7 shows a script's calls (source `lua`) right after its EVALSHA, and a script
 * runs to completion, so every `lua` line belongs to the EVALSHA before it (named by its SHA1: STORE_SCRIPTS).
 *
 * Four phases: the payments with the background loops off (sealer, receipts, webhooks, hold sweep: what a
 * payment's own steps cost); the loops on and idle for a few seconds, after those payments are sealed (what a
 * round costs when there is nothing to do); the payments again with the loops on, counted until the loops have
 * sealed the journal and signed the receipts (what a payment costs the server in all); and the payments with the
 * loops off again without MONITOR, timed by INFO commandstats (where the server's time goes). docs/deploy.md
 * sizes Redis from it.
 * @example
 *   npx tsx bench/e2e/redis-ops.ts            # 200 payments
 *   npx tsx bench/e2e/redis-ops.ts 50         # 50
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisStore } from '../../issuer/store/redis-store.ts';
import { STORE_SCRIPTS } from '../../issuer/store/redis-scripts.ts';
import { PIN, startGatewayFixture, type GatewayFixture } from '../../test/support/gateway-fixture.ts';
import { onPath, startServer, testKeyPrefix } from '../../test/support/redis-server.ts';

const PAYMENTS = Number(process.argv[2] ?? 200);
const IDLE_MS = 3_200;
/** The loops' rounds: each its default (1 s; the hold sweep 1 s too, so that its idle round is seen). */
const LOOPS_ON = { sealerIntervalMs: 1_000, receiptIntervalMs: 1_000, holdSweepMs: 1_000, webhooks: { intervalMs: 1_000 } };
const LOOPS_OFF = { sealerIntervalMs: 0, receiptIntervalMs: 3_600_000, holdSweepMs: 0, webhooks: { intervalMs: 0 } };

const scriptBySha = new Map(Object.entries(STORE_SCRIPTS).map(([name, { sha }]) => [sha, name]));
/** MONITOR shows an EVAL's script escaped: compared by its letters and digits only. */
const letters = (text: string) => text.replace(/\\[nrt]/g, '').replace(/[^A-Za-z0-9]/g, '');
const scriptByText = new Map(Object.entries(STORE_SCRIPTS).map(([name, { lua }]) => [letters(lua), name]));

/** What the server ran: each top-level command or script (by name) with how often, and each script's inner calls. */
class Tally {
  readonly top = new Map<string, number>();
  readonly inner = new Map<string, Map<string, number>>();
  #script: string | null = null;

  see(args: string[], source: string): void {
    const command = args[0]!.toLowerCase();
    if (source === 'lua') {
      const calls = this.inner.get(this.#script ?? '?') ?? new Map<string, number>();
      calls.set(command, (calls.get(command) ?? 0) + 1);
      this.inner.set(this.#script ?? '?', calls);
      return;
    }
    // the store sends EVAL with the script's text after the server answers NOSCRIPT (withStoreScripts)
    const script = command === 'evalsha' ? scriptBySha.get(args[1]!.toLowerCase()) ?? `evalsha ${args[1]}`
      : command === 'eval' ? scriptByText.get(letters(args[1]!)) ?? 'eval (unknown script)' : null;
    this.#script = script;
    const name = script ?? command;
    this.top.set(name, (this.top.get(name) ?? 0) + 1);
  }

  total(): { sent: number; inner: number } {
    const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    return { sent: sum(this.top), inner: [...this.inner.values()].reduce((a, m) => a + sum(m), 0) };
  }

  /** A markdown table: command or script → sent, calls inside, server calls; all divided by `per`. */
  table(per: number, unit: string): string {
    const f = (x: number) => (x / per).toFixed(2);
    const rows = [...this.top].sort((a, b) => b[1] - a[1]).map(([name, sent]) => {
      const calls = this.inner.get(name) ?? new Map<string, number>();
      const inner = [...calls.values()].reduce((a, b) => a + b, 0);
      const which = [...calls].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${f(n)}`).join(', ');
      return `| ${name} | ${f(sent)} | ${f(inner)} | ${f(sent + inner)} | ${which} |`;
    });
    const { sent, inner } = this.total();
    return [`| command or script | sent ${unit} | calls inside ${unit} | server calls ${unit} | inside, by command |`, '| --- | --- | --- | --- | --- |',
      ...rows, `| **all** | **${f(sent)}** | **${f(inner)}** | **${f(sent + inner)}** | |`].join('\n');
  }
}

/** INFO commandstats: calls and usec per command. */
function commandTimes(info: string): Map<string, { calls: number; usec: number }> {
  const out = new Map<string, { calls: number; usec: number }>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  return out;
}

/** Counts what the server runs while `run` runs (MONITOR lines trail the replies: a pause after). */
async function counted(admin: Redis, run: () => Promise<void>): Promise<Tally> {
  const tally = new Tally();
  const monitor = await admin.monitor();
  monitor.on('monitor', (_time: string, args: string[], source: string) => tally.see(args, source));
  await sleep(100);
  try {
    await run();
    await sleep(200);
  } finally {
    monitor.disconnect();
  }
  return tally;
}

async function pay(gw: GatewayFixture, payloadText: string, n: number): Promise<void> {
  const scanner = await gw.scanner();
  for (let i = 0; i < n; i++) {
    const auth = await scanner.open(payloadText, 100);
    const result = await scanner.pin(auth.session, PIN);
    if (result.type !== 'payment-result' || result.outcome !== 'approved') throw new Error(`payment ${i}: ${JSON.stringify(result)}`);
  }
  await scanner.close();
}

/** One gateway with `loops` over a fresh prefix on the server; `body` gets it and a card. */
async function withGateway(url: string, loops: object, body: (gw: GatewayFixture, payloadText: string) => Promise<void>): Promise<void> {
  const store = await RedisStore.connect(url, { prefix: testKeyPrefix('scanpay-bench:') });
  const gw = await startGatewayFixture({ store, threads: 1, gateway: { pinPaceMs: 0, framesPerSecond: 100_000, burst: 100_000, ...loops } });
  try {
    const card = await gw.issue({ balance: 100_000_000, limit: 100_000_000 });
    await pay(gw, card.payloadText, 1); // the store loads each script with one EVAL after the server's first NOSCRIPT
    await body(gw, card.payloadText);
  } finally {
    await gw.close();
    await store.close();
  }
}

const binary = onPath('redis-server');
if (!binary) throw new Error('needs redis-server on PATH (a private one: MONITOR counts server-wide)');
const server = await startServer(binary);
const admin = new Redis(server.url);
try {
  await withGateway(server.url, LOOPS_OFF, async (gw, payloadText) => {
    const connection = await counted(admin, async () => {
      await (await gw.scanner()).close();
    });
    console.log(`\n## Per connection (upgrade with a device token, then closed)\n\n${connection.table(1, '')}`);
    const payments = await counted(admin, () => pay(gw, payloadText, PAYMENTS));
    console.log(`\n## Per payment, background loops off (${PAYMENTS} payments, one connection; its upgrade included, /${PAYMENTS})\n\n${payments.table(PAYMENTS, '/payment')}`);
  });
  await withGateway(server.url, LOOPS_OFF, async (gw, payloadText) => {
    // without MONITOR (which costs the server a line per call): where the server's time goes, by command
    const before = commandTimes(await admin.info('commandstats'));
    await pay(gw, payloadText, PAYMENTS);
    const after = commandTimes(await admin.info('commandstats'));
    const rows = [...after].map(([name, t]) => [name, (t.usec - (before.get(name)?.usec ?? 0)) / PAYMENTS, (t.calls - (before.get(name)?.calls ?? 0)) / PAYMENTS] as const)
      .filter(([name, usec]) => usec > 0 && name !== 'info').sort((a, b) => b[1] - a[1]);
    console.log(`\n## Server time per payment, loops off (INFO commandstats usec, no MONITOR; ${PAYMENTS} payments; an EVALSHA's time includes its calls')\n`);
    console.log(['| command | µs /payment | calls /payment |', '| --- | --- | --- |', ...rows.map(([name, usec, calls]) => `| ${name} | ${usec.toFixed(1)} | ${calls.toFixed(2)} |`)].join('\n'));
  });
  await withGateway(server.url, LOOPS_ON, async (gw, payloadText) => {
    const payments = await counted(admin, async () => {
      await pay(gw, payloadText, PAYMENTS);
      await sleep(2_500); // the loops seal the journal, then sign the receipts
    });
    console.log(`\n## Per payment, background loops on (${PAYMENTS} payments, then 2.5 s for sealing and receipts; /${PAYMENTS})\n\n${payments.table(PAYMENTS, '/payment')}`);
    const idle = await counted(admin, () => sleep(IDLE_MS));
    console.log(`\n## Idle, loops on (every 1 s; 1 merchant with events, 0 with webhooks; ${IDLE_MS} ms, per second)\n\n${idle.table(IDLE_MS / 1000, '/s')}`);
  });
} finally {
  admin.disconnect();
  await server.stop();
}
