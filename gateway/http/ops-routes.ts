/**
 * /healthz (the process answers), /readyz (store and crypto pool usable), /metrics (Prometheus).
 * They are served on the ops listener (loopback by default, its own port), never on the scanners' port:
 * metrics and store details are for operators. The public listener answers /healthz and a bare /readyz
 * for load balancers. /readyz never waits on a dead store longer than READY_DEADLINE_MS.
 */
import type { Store } from '../../issuer/store/index.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { text, type HttpRoute } from './types.ts';

export const READY_DEADLINE_MS = 800;

export interface OpsState {
  store: Store;
  metrics: GatewayMetrics;
  poolReady: () => boolean;
  draining: () => boolean;
}

async function storeAnswers(store: Store): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), READY_DEADLINE_MS)));
  try {
    return await Promise.race([store.ping().then(() => true, () => false), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function readiness(opts: OpsState): Promise<{ ready: boolean; store: string; pool: string; draining: boolean }> {
  const store = (await storeAnswers(opts.store)) ? 'ok' : 'unreachable';
  const pool = opts.poolReady() ? 'ok' : 'down';
  const draining = opts.draining();
  return { ready: store === 'ok' && pool === 'ok' && !draining, store, pool, draining };
}

const healthz: HttpRoute = { method: 'get', pattern: '/healthz', handler: async () => text(200, 'ok\n') };

/** The ops listener's routes: full readiness detail and metrics. */
export function opsRoutes(opts: OpsState): HttpRoute[] {
  return [
    healthz,
    {
      method: 'get',
      pattern: '/readyz',
      async handler() {
        const state = await readiness(opts);
        return text(state.ready ? 200 : 503, `${JSON.stringify({ ...state, storeKind: opts.store.description })}\n`, 'application/json');
      },
    },
    {
      method: 'get',
      pattern: '/metrics',
      async handler() {
        return text(200, await opts.metrics.registry.metrics(), opts.metrics.registry.contentType);
      },
    },
  ];
}

/** The scanners' listener: liveness and a yes/no readiness, nothing more. */
export function publicHealthRoutes(opts: OpsState): HttpRoute[] {
  return [
    healthz,
    {
      method: 'get',
      pattern: '/readyz',
      async handler() {
        const { ready } = await readiness(opts);
        return text(ready ? 200 : 503, ready ? 'ready\n' : 'not ready\n');
      },
    },
  ];
}
