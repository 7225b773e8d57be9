/**
 * Debian's Chromium for the browser tests, driven by playwright-core (no downloaded browser): its path, and one
 * launch with the flags every test uses (headless, no sandbox in a container, no GPU, QUIC or background traffic).
 * @example
 *   const browser = await launchChromium();
 *   const page = await browser.newPage();
 */
import type { Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

/** Loads playwright-core only when called, so a module that imports this one costs nothing until it launches. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
}
