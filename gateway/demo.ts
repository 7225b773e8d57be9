/**
 * Demo material for `npm start` on a fresh machine: a demo merchant with its merchant API key, a provisioned demo
 * scanner bound to it, and a few cards whose QR images are written to a folder, so one printed command makes a
 * payment and one curl reads it back. The folder is claimed for as
 * long as the gateway runs (an owner file with its pid): a second demo never overwrites the material of one
 * still running, whose printed command would then fail (its cards and scanner secret live in that process).
 */
import { accessSync, constants, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { Issuer } from '../issuer/issuer.ts';
import { apiKeyHashKey, newApiKey } from '../issuer/merchant-keys.ts';
import { DEFAULT_HOLD_WINDOW_MS } from '../issuer/payment.ts';
import { payloadQrPng } from '../issuer/qr.ts';
import type { DeviceBinding, Store } from '../issuer/store/index.ts';
import { deviceSecret } from '../protocol/scanner-token.ts';

export const DEMO_SCANNER = 'demo-scanner';
/** The merchant the demo scanner takes payments for (the one `npm start`'s printed pay command names). */
export const DEMO_MERCHANT = 'demo-shop';

export const DEMO_CARDS = [
  { file: 'card-1.png', pin: '1234', limit: 50_000, balance: 100_000, currency: 'EUR' },
  { file: 'card-2.png', pin: '4321', limit: 20_000, balance: 30_000, currency: 'EUR' },
  { file: 'card-3.png', pin: '0000', limit: 50_000, balance: 50_000, currency: 'USD' },
] as const;

export interface DemoMaterial {
  dir: string;
  secretFile: string;
  cards: { file: string; pin: string; currency: string; maskedPan: string }[];
}

/**
 * Why the demo material could not be written to `dir` (null: it can be): the folder, or the nearest existing
 * folder above it, is a file or not writable. Checked at start, before the gateway listens.
 */
export function demoDirProblem(dir: string): string | null {
  const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? 'error';
  for (let at = resolve(dir); ; at = dirname(at)) {
    let isFolder: boolean;
    try {
      isFolder = statSync(at).isDirectory();
    } catch (e) {
      if ((code(e) === 'ENOENT' || code(e) === 'ENOTDIR') && dirname(at) !== at) continue; // not there yet: mkdir makes it
      return `cannot look at ${at} (${code(e)})`;
    }
    if (!isFolder) return `${at} is a file, not a folder`;
    try {
      accessSync(at, constants.W_OK);
    } catch (e) {
      return `cannot write in ${at} (${code(e)})`;
    }
    return null;
  }
}

export async function writeDemo(issuer: Issuer, fleetKey: Uint8Array, dir: string): Promise<DemoMaterial> {
  await mkdir(dir, { recursive: true });
  const secretFile = join(dir, `${DEMO_SCANNER}.secret`);
  await writeFile(secretFile, `${Buffer.from(deviceSecret(fleetKey, DEMO_SCANNER)).toString('hex')}\n`, { mode: 0o600 });
  const cards = [];
  for (const demo of DEMO_CARDS) {
    const issued = await issuer.issueCard(demo);
    await writeFile(join(dir, demo.file), await payloadQrPng(issued.payloadText));
    await writeFile(join(dir, demo.file.replace('.png', '.txt')), `${issued.payloadText}\n`);
    cards.push({ file: relative(process.cwd(), join(dir, demo.file)), pin: demo.pin, currency: demo.currency, maskedPan: issued.view.maskedPan });
  }
  return { dir, secretFile: relative(process.cwd(), secretFile), cards };
}

export interface DemoMerchant {
  /** Its API key, made now (print it once), or null: the store had the merchant already (a persistent store). */
  apiKey: string | null;
  /** Where the key was written (mode 0600), relative to the working folder; null with no new key. */
  keyFile: string | null;
  /** How the demo scanner's binding went: bound now, already, or bound to another merchant (its scans for this one are refused). */
  scanner: DeviceBinding;
}

/**
 * The demo merchant (automatic capture, as payments were before merchants) with a new API key written owner-only
 * into the demo folder, and the demo scanner recorded and bound to it. On a store that has the merchant already
 * (SCANPAY_DEMO=1 over Redis) no key is made: its key was given when it was made.
 */
export async function writeDemoMerchant(store: Store, fleetKey: Uint8Array, dir: string): Promise<DemoMerchant> {
  const now = Date.now();
  const hashKey = apiKeyHashKey(fleetKey);
  const made = newApiKey(hashKey, DEMO_MERCHANT, now);
  hashKey.fill(0);
  const record = { id: DEMO_MERCHANT, name: 'Demo shop', captureMethod: 'automatic' as const, holdWindowMs: DEFAULT_HOLD_WINDOW_MS, createdAt: now };
  const created = await store.merchants.createMerchant(record, made.record);
  let keyFile: string | null = null;
  if (created) {
    keyFile = join(dir, `${DEMO_MERCHANT}.api-key`);
    await rm(keyFile, { force: true }); // a stale one of an earlier demo: written afresh, owner-only
    await writeFile(keyFile, `${made.key}\n`, { mode: 0o600 });
  }
  await store.recordDevice(DEMO_SCANNER);
  const scanner = await store.bindDevice(DEMO_SCANNER, DEMO_MERCHANT);
  return { apiKey: created ? made.key : null, keyFile: keyFile && relative(process.cwd(), keyFile), scanner };
}

/** The file in a demo folder that says which running gateway wrote it. */
export const DEMO_OWNER_FILE = '.scanpay-demo-owner.json';

/** Who holds a demo folder: the gateway's pid and where its scanners connect. */
export interface DemoOwner {
  pid: number;
  scannerUrl: string;
}

export type DemoClaim = { claimed: true; release(): void } | { claimed: false; heldBy: DemoOwner };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // there, but another user's
  }
}

async function readOwner(file: string): Promise<DemoOwner | null> {
  try {
    const owner = JSON.parse(await readFile(file, 'utf8')) as Partial<DemoOwner>;
    return Number.isSafeInteger(owner.pid) && typeof owner.scannerUrl === 'string' ? (owner as DemoOwner) : null;
  } catch {
    return null; // gone meanwhile, or not ours to read: treated as no claim
  }
}

/**
 * Claims `dir` for this process until release() (or its exit): refused while another live process holds
 * it. A claim whose process is gone (killed, crashed) is taken over. Two starts taking over one stale claim
 * at the same instant could both succeed; a live holder's claim is never removed by another process.
 */
export async function claimDemoFolder(dir: string, scannerUrl: string): Promise<DemoClaim> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, DEMO_OWNER_FILE);
  const mine = JSON.stringify({ pid: process.pid, scannerUrl } satisfies DemoOwner);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(file, `${mine}\n`, { flag: 'wx' });
      const release = () => {
        try {
          if (readFileSync(file, 'utf8').trim() === mine) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return { claimed: true, release };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = await readOwner(file);
    if (owner && owner.pid !== process.pid && alive(owner.pid)) return { claimed: false, heldBy: owner };
    await rm(file, { force: true }); // its process is gone (or the file is not a claim): take it over
  }
  throw new Error(`${file} kept changing while this gateway tried to claim ${dir}`);
}
