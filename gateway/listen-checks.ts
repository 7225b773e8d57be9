/**
 * Where the gateway listens and what it tells scanners to open, checked once before anything binds: a listen
 * host, the public URL the page links start with, the TLS certificate and key. `npm start` reports each
 * problem as one CONFIG line (gateway/config.ts); startGateway throws it as BAD_ARGUMENT. A problem names the
 * setting as its caller knows it (`HOST`, `host`), and never shows key bytes or a URL's credentials.
 * @example
 *   hostProblem('HOST', '[::1]')                  // 'HOST must be an IP address (IPv6 without brackets…'
 *   publicOrigin('PUBLIC_URL', 'https://pay.example.com/')   // { origin: 'https://pay.example.com' }
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { TlsFiles } from './transport/uws-server.ts';

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Null for an IP address or a host name. uWS takes IPv6 without brackets (`::1`, `::`); a name or address
 * that is not this host's is only found out when it binds (startGateway's listen error).
 */
export function hostProblem(name: string, host: string): string | null {
  if (isIP(host) !== 0 || HOST_NAME.test(host)) return null;
  return `${name} must be an IP address (IPv6 without brackets, e.g. ::1) or a host name (got "${host.slice(0, 64)}")`;
}

/**
 * The origin page URLs start with (`${origin}/auth/<session>?t=…`; the page posts the PIN to `/auth/<session>`
 * of the same origin), from an http(s) URL that is only an origin: a trailing `/` is dropped, and a path,
 * query, fragment or user is refused, since a page link or the PIN POST would miss the page.
 */
export function publicOrigin(name: string, raw: string): { origin: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: `${name} must be a URL such as https://pay.example.com` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: `${name} must be an http:// or https:// URL` };
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '' || raw.endsWith('?') || raw.endsWith('#')) {
    return { problem: `${name} must be an origin only, such as https://pay.example.com (no path, query, fragment or user): pages are served at /auth/… of it` };
  }
  return { origin: url.origin };
}

/**
 * Problems with a certificate and key pair: each file readable, the certificate PEM, the key an unencrypted
 * PEM private key (uWS takes no passphrase), and the key the certificate's. `names` are the settings' names.
 */
export function tlsProblems(names: { cert: string; key: string }, files: TlsFiles): string[] {
  const read = (name: string, file: string): string | { problem: string } => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      return { problem: `${name} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
    }
  };
  const problems: string[] = [];
  const certText = read(names.cert, files.certFile);
  const keyText = read(names.key, files.keyFile);
  let cert: X509Certificate | undefined;
  let key: KeyObject | undefined;
  if (typeof certText !== 'string') problems.push(certText.problem);
  else {
    try {
      cert = new X509Certificate(certText);
    } catch {
      problems.push(`${names.cert} ${files.certFile} holds no PEM certificate`);
    }
  }
  if (typeof keyText !== 'string') problems.push(keyText.problem);
  else {
    try {
      key = createPrivateKey(keyText);
    } catch {
      problems.push(`${names.key} ${files.keyFile} holds no unencrypted PEM private key`); // the error could quote the file: not shown
    }
  }
  if (cert && key && !cert.checkPrivateKey(key)) {
    problems.push(`${names.key} ${files.keyFile} is not the private key of the certificate in ${names.cert} ${files.certFile}`);
  }
  return problems;
}
