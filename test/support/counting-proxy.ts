/**
 * A TCP relay on 127.0.0.1 in front of a receiver: counts the connections
 * made to the receiver, can hold back what the receiver sends (so a shipment
 * stays unconfirmed while a test does something else), and can reset every
 * connection as a receiver that crashed would. TLS passes through untouched:
 * the client still verifies the receiver's certificate.
 */
import net from 'node:net';

export interface CountingProxy {
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** From now on, bytes and closes from the receiver are queued instead of relayed. */
  hold(): void;
  /** Relays what was queued, in order, and stops queueing. */
  release(): void;
  /** Resets every open connection (RST to the client), like a receiver that died. */
  resetAll(): void;
  close(): Promise<void>;
}

export async function startCountingProxy(target: { host: string; port: number }): Promise<CountingProxy> {
  let connections = 0;
  let held: (() => void)[] | null = null;
  const open = new Set<net.Socket>();
  const relay = (action: () => void): void => {
    if (held) held.push(action);
    else action();
  };
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    connections++;
    const upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    open.add(client);
    client.on('close', () => {
      open.delete(client);
      upstream.destroy();
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.resetAndDestroy());
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    client.on('end', () => upstream.end());
    upstream.on('data', (chunk: Buffer) => relay(() => client.write(chunk)));
    upstream.on('end', () => relay(() => client.end()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    get connections() {
      return connections;
    },
    hold() {
      held ??= [];
    },
    release() {
      const queued = held ?? [];
      held = null;
      for (const action of queued) action();
    },
    resetAll() {
      held = null;
      for (const socket of open) socket.resetAndDestroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
