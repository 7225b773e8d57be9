/**
 * Where a push for a scanner goes. One gateway: straight to its own connections. Many gateways behind a
 * load balancer (over Redis): the page that takes a PIN may be served by a gateway other than the one
 * holding the scanner's WebSocket, so every push is published on the scanner's own channel, and a gateway
 * listens on the channels of the scanners connected to it (watch/unwatch), no others.
 */
import { Cluster, Redis } from 'ioredis';
import { DEFAULT_PREFIX, keyLayout, type KeyLayout, type RedisTarget } from '../../issuer/store/index.ts';
import type { GatewayFrame } from '../../protocol/messages.ts';

export type Deliver = (deviceId: string, frame: GatewayFrame) => void;

export interface PushBus {
  publish(deviceId: string, frame: GatewayFrame): void;
  /** The first connection of this scanner opened here: receive its pushes from other gateways. */
  watch(deviceId: string): void;
  /** Its last connection here closed. */
  unwatch(deviceId: string): void;
  close(): Promise<void>;
}

export class LocalPushBus implements PushBus {
  constructor(private readonly deliver: Deliver) {}

  publish(deviceId: string, frame: GatewayFrame): void {
    this.deliver(deviceId, frame);
  }

  watch(): void {}
  unwatch(): void {}
  async close(): Promise<void> {}
}

/**
 * Channel `{prefix}push:{<scanner id>}` (the store's key layout), messages are frame JSON (frames never hold a PAN or secret).
 * On one Redis: classic SUBSCRIBE/PUBLISH. On a cluster: sharded SSUBSCRIBE/SPUBLISH, where the hash tag puts
 * each scanner's channel on one slot, so a push travels only to that slot's shard instead of being broadcast
 * over the cluster bus to every node as classic pub/sub is.
 */
export class RedisPushBus implements PushBus {
  private constructor(
    private readonly publisher: Redis | Cluster,
    private readonly subscriber: Redis | Cluster,
    private readonly keys: KeyLayout,
    private readonly onError: (e: Error) => void,
  ) {}

  /** `target`: a redis:// URL, or { cluster: seed nodes } for sharded pub/sub; `prefix`: the store's (default DEFAULT_PREFIX). */
  static async connect(target: string | RedisTarget, prefix: string | undefined, deliver: Deliver, onError: (e: Error) => void): Promise<RedisPushBus> {
    const keys = keyLayout(prefix ?? DEFAULT_PREFIX);
    const where = typeof target === 'string' ? { url: target } : target;
    const sharded = 'cluster' in where;
    const publisher = sharded ? new Cluster(where.cluster, { lazyConnect: true }) : new Redis(where.url, { lazyConnect: true });
    const subscriber = sharded ? new Cluster(where.cluster, { lazyConnect: true, shardedSubscribers: true }) : new Redis(where.url, { lazyConnect: true });
    publisher.on('error', onError);
    subscriber.on('error', onError);
    await Promise.all([publisher.connect(), subscriber.connect()]);
    const head = keys.pushPrefix;
    subscriber.on(sharded ? 'smessage' : 'message', (channel: string, message: string) => {
      if (!channel.startsWith(head) || !channel.endsWith('}')) return;
      try {
        deliver(channel.slice(head.length, -1), JSON.parse(message) as GatewayFrame);
      } catch (e) {
        onError(e as Error);
      }
    });
    return new RedisPushBus(publisher, subscriber, keys, onError);
  }

  #channel(deviceId: string): string {
    return this.keys.push(deviceId);
  }

  get #sharded(): boolean {
    return this.publisher instanceof Cluster;
  }

  publish(deviceId: string, frame: GatewayFrame): void {
    const channel = this.#channel(deviceId);
    const message = JSON.stringify(frame);
    const sent = this.#sharded ? this.publisher.spublish(channel, message) : this.publisher.publish(channel, message);
    void sent.catch(() => {
      // the scanner still learns the outcome: its next pin frame for the session replays the ledger record
    });
  }

  watch(deviceId: string): void {
    const channel = this.#channel(deviceId);
    void (this.#sharded ? this.subscriber.ssubscribe(channel) : this.subscriber.subscribe(channel)).catch(this.onError);
  }

  unwatch(deviceId: string): void {
    const channel = this.#channel(deviceId);
    void (this.#sharded ? this.subscriber.sunsubscribe(channel) : this.subscriber.unsubscribe(channel)).catch(this.onError);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.subscriber.quit(), this.publisher.quit()]);
  }
}
