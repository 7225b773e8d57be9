/**
 * deploy/compose.yaml and deploy/haproxy.cfg are not run here (no Docker engine): this keeps them consistent
 * with what does run. Every environment variable the gateways get is one gateway/config.ts (or the key ring
 * and fleet key loaders) reads, and the set passes readStartConfig (the secrets it names under /run/secrets,
 * which start-up reads, stood in for by fresh ones of the same kind); the cluster create step and
 * REDIS_CLUSTER_NODES name the same six Redis services; HAProxy's backends are the compose gateways on
 * their PORT (and, for the merchant API, their MERCHANT_PORT), health-checked on the public /readyz.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStartConfig } from '../../gateway/config.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFile(new URL(path, root), 'utf8');

/** The `environment:` map of the x-gateway anchor (flat `KEY: value` lines, comments dropped). */
function gatewayEnvironment(compose: string): Record<string, string> {
  const block = /^x-gateway:[\s\S]*?^ {2}environment:\n((?: {4}.*\n)+)/m.exec(compose);
  if (!block) throw new Error('compose.yaml: no x-gateway environment block');
  return Object.fromEntries(block[1].split('\n').filter(Boolean).map((line) => {
    const m = /^ {4}([A-Z_]+): ("?)([^"#]*?)\2\s*(?:#.*)?$/.exec(line);
    if (!m) throw new Error(`compose.yaml: cannot read environment line "${line}"`);
    return [m[1], m[3]];
  }));
}

describe('deploy/ files agree with the code', () => {
  it('every gateway variable is one the gateway reads, and together they are a valid start configuration', async () => {
    const compose = await read('deploy/compose.yaml');
    const env = gatewayEnvironment(compose);
    const readers = [await read('gateway/config.ts'), await read('issuer/key-ring.ts'), await read('protocol/fleet-key.ts')].join('\n');
    for (const name of Object.keys(env)) expect(readers, name).toMatch(new RegExp(`\\b${name}\\b`));
    // the container's secrets (compose `secrets:`): a key ring and a fleet key, as `scanpay keys generate` and `fleet-key generate` write them
    expect([env.SCANPAY_KEYRING_FILE, env.SCANPAY_FLEET_KEY_FILE]).toEqual(['/run/secrets/scanpay-keyring', '/run/secrets/scanpay-fleet-key']);
    const secrets = await mkdtemp(join(tmpdir(), 'scanpay-deploy-secrets-'));
    let config: ReturnType<typeof readStartConfig>;
    try {
      const stand = { SCANPAY_KEYRING_FILE: join(secrets, 'scanpay-keyring'), SCANPAY_FLEET_KEY_FILE: join(secrets, 'scanpay-fleet-key') };
      await IssuerKeyRing.generate().save(stand.SCANPAY_KEYRING_FILE);
      await writeFile(stand.SCANPAY_FLEET_KEY_FILE, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
      config = readStartConfig({ ...env, ...stand }, []);
    } finally {
      await rm(secrets, { recursive: true, force: true });
    }
    expect(config).toMatchObject({ host: '0.0.0.0', port: 8080, opsPort: 9090, waitReplicas: 1, demo: false, processes: 1 });
    expect(config.clusterNodes?.split(',')).toHaveLength(6);
    // both gateways are the anchor
    expect(compose).toMatch(/^ {2}gateway-a: \*gateway$/m);
    expect(compose).toMatch(/^ {2}gateway-b: \*gateway$/m);
  });

  it('the cluster: six Redis services in cluster mode, created with one replica each, listed in REDIS_CLUSTER_NODES', async () => {
    const compose = await read('deploy/compose.yaml');
    const services = [...compose.matchAll(/^ {2}(redis-\d): \*redis-node$/gm)].map((m) => m[1]);
    expect(services).toEqual(['redis-1', 'redis-2', 'redis-3', 'redis-4', 'redis-5', 'redis-6']);
    expect(compose).toContain('--cluster-enabled yes');
    expect(compose).toMatch(/redis-cli --cluster create [\s\S]*for i in 1 2 3 4 5 6;[\s\S]*--cluster-replicas 1 --cluster-yes/);
    expect(gatewayEnvironment(compose).REDIS_CLUSTER_NODES).toBe(services.map((s) => `${s}:6379`).join(','));
  });

  it('HAProxy balances over both gateways on their PORT, checks the public /readyz, and keeps WebSockets open', async () => {
    const [compose, haproxy] = [await read('deploy/compose.yaml'), await read('deploy/haproxy.cfg')];
    const port = gatewayEnvironment(compose).PORT;
    const servers = [...haproxy.matchAll(/^\s+server (\S+) (\S+):(\d+) check$/gm)].map((m) => ({ name: m[1], host: m[2], port: m[3] }));
    expect(servers).toEqual([{ name: 'gateway-a', host: 'gateway-a', port }, { name: 'gateway-b', host: 'gateway-b', port }]);
    expect(haproxy).toMatch(/option httpchk GET \/readyz/);
    expect(haproxy).toMatch(/timeout tunnel \d+h/);
    expect(compose).toMatch(/- "8080:8080"/);
    expect(haproxy).toMatch(/bind :8080/);
    expect(compose).toContain('./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
  });

  it('HAProxy\'s merchant-api frontend balances over both gateways on their MERCHANT_PORT, health-checked on their PORT', async () => {
    const [compose, haproxy] = [await read('deploy/compose.yaml'), await read('deploy/haproxy.cfg')];
    const env = gatewayEnvironment(compose);
    expect(env.MERCHANT_HOST).toBe('0.0.0.0');
    const backend = /^backend merchant-api\n((?: {2}.*\n?)+)/m.exec(haproxy)?.[1] ?? '';
    const servers = [...backend.matchAll(/^\s+server (\S+) (\S+):(\d+) check port (\d+)$/gm)].map((m) => ({ name: m[1], host: m[2], port: m[3], checked: m[4] }));
    expect(servers).toEqual(['gateway-a', 'gateway-b'].map((name) => ({ name, host: name, port: env.MERCHANT_PORT, checked: env.PORT })));
    expect(backend).toMatch(/option httpchk GET \/readyz/);
    expect(haproxy).toMatch(new RegExp(`^frontend merchant-api\\n {2}bind :${env.MERCHANT_PORT}$`, 'm'));
    expect(compose).toContain(`- "${env.MERCHANT_PORT}:${env.MERCHANT_PORT}"`);
  });
});
