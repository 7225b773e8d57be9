/**
 * Demo material for `npm start` on a fresh machine: a provisioned demo scanner and a few cards whose
 * QR images are written to a folder, so one printed command makes a payment.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Issuer } from '../issuer/issuer.ts';
import { payloadQrPng } from '../issuer/qr.ts';
import { deviceSecret } from '../protocol/scanner-token.ts';

export const DEMO_SCANNER = 'demo-scanner';

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
