/**
 * Where a push for a scanner goes. One gateway: straight to its own connections. Many gateways behind a
 * load balancer (over one Redis): the page that takes a PIN may be served by a gateway other than the
 * one holding the scanner's WebSocket, so every push is published on Redis and each gateway delivers
 * it to the connections it holds.
 */
import { Redis } from 'ioredis';
import type { GatewayFrame } from '../../protocol/messages.ts';

export type Deliver = (scannerId: string, frame: GatewayFrame) => void;

export interface PushBus {
  publish(scannerId: string, frame: GatewayFrame): void;
  close(): Promise<void>;
}

export class LocalPushBus implements PushBus {
  constructor(private readonly deliver: Deliver) {}

  publish(scannerId: string, frame: GatewayFrame): void {
    this.deliver(scannerId, frame);
  }

  async close(): Promise<void> {}
}

/** Channel `{prefix}push`; messages are `{ scannerId, frame }` JSON (frames never hold a PAN or secret). */
export class RedisPushBus implements PushBus {
  private constructor(private readonly publisher: Redis, private readonly subscriber: Redis, private readonly channel: string) {}

  static async connect(url: string, prefix: string, deliver: Deliver, onError: (e: Error) => void): Promise<RedisPushBus> {
    const publisher = new Redis(url, { lazyConnect: true });
    const subscriber = new Redis(url, { lazyConnect: true });
    await Promise.all([publisher.connect(), subscriber.connect()]);
    const channel = `${prefix}push`;
    subscriber.on('message', (from: string, message: string) => {
      if (from !== channel) return;
      try {
        const { scannerId, frame } = JSON.parse(message) as { scannerId: string; frame: GatewayFrame };
        deliver(scannerId, frame);
      } catch (e) {
        onError(e as Error);
      }
    });
    publisher.on('error', onError);
    subscriber.on('error', onError);
    await subscriber.subscribe(channel);
    return new RedisPushBus(publisher, subscriber, channel);
  }

  publish(scannerId: string, frame: GatewayFrame): void {
    void this.publisher.publish(this.channel, JSON.stringify({ scannerId, frame })).catch(() => {
      // the scanner still learns the outcome: its next pin frame for the session replays the ledger record
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.subscriber.quit(), this.publisher.quit()]);
  }
}
