/**
 * A TLS syslog receiver that can lose a page it has read, the way a receiver
 * stopped or killed mid-processing does: it reads a page to the sender's end of
 * stream, closes its side (to the sender that is a confirmation), and drops the
 * page. Its shutdown is then spread out as a real one is: every other open
 * connection (the one the sender opened ahead for its next page among them) is
 * closed `shutdownMs` later, and new connections are refused (reset right after
 * they are accepted) until `downMs` after the loss. The listening socket stays
 * bound the whole time, so no other process can take its port meanwhile.
 *
 * Every other page is kept: read to the sender's end of stream, then closed.
 */
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { ServerCert } from '../../support/certs';
import type { ReceivedMessage } from '../../support/rsyslog-receiver';
import { parseFrame } from './closing-receiver';

export interface LossyReceiverOptions {
  /** The 1-based number of the page (a connection that carried data) that is read and dropped. */
  losePage: number;
  /** From the dropped page's confirmation to the closing of every other open connection. */
  shutdownMs: number;
  /** From the dropped page's confirmation until new connections are accepted again. */
  downMs: number;
}

export interface LossyReceiver {
  port: number;
  /** What was kept. */
  messages(): ReceivedMessage[];
  /** The lines of the page that was read and dropped (empty until it happened). */
  dropped(): string[];
  /** Connections reset on arrival while the receiver was down. */
  refused(): number;
  stop(): Promise<void>;
}

export async function startLossyReceiver(cert: ServerCert, options: LossyReceiverOptions): Promise<LossyReceiver> {
  const kept: ReceivedMessage[] = [];
  let dropped: string[] = [];
  let pages = 0;
  let downUntil = 0;
  let refused = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const server = tls.createServer({ cert: cert.cert, key: cert.key }, (socket) => {
    if (Date.now() < downUntil) {
      refused++;
      socket.destroy();
      return;
    }
    sockets.add(socket);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter((line) => line !== '');
      if (lines.length > 0) pages++;
      if (lines.length > 0 && pages === options.losePage) {
        // Read, "confirmed" by closing, and lost: the process stops before keeping it.
        dropped = lines;
        downUntil = Date.now() + options.downMs;
        socket.end();
        later(options.shutdownMs, () => {
          for (const other of sockets) if (other !== socket) other.destroy();
        });
        return;
      }
      for (const line of lines) kept.push(parseFrame(line));
      socket.end();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    messages: () => kept.slice(),
    dropped: () => dropped.slice(),
    refused: () => refused,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
