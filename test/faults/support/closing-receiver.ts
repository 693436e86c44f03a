/**
 * A TLS syslog receiver that closes idle connections: a connection on which
 * nothing has arrived within `idleCloseMs` of the handshake is closed from
 * the receiver's side (close_notify and FIN), and whatever arrives on it
 * afterwards is read and dropped. rsyslogd does exactly that to every open
 * connection when it is stopped or restarted (and load balancers do it after
 * an idle timeout). A connection that is used in time is served properly:
 * read to the sender's end of stream, kept, then closed.
 *
 * With slow enough pages, every connection a sender opens ahead for its next
 * page is closed under it before it is used, every time, where a real
 * restart does that only when it happens to strike between two pages.
 */
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { ServerCert } from '../../support/certs';
import type { ReceivedMessage } from '../../support/rsyslog-receiver';

export interface ClosingReceiver {
  port: number;
  /** What was kept, parsed like the rsyslog receiver's messages. */
  messages(): ReceivedMessage[];
  connections(): number;
  idleClosed(): number;
  /** Bytes that arrived on a connection the receiver had already closed (dropped). */
  droppedBytes(): number;
  stop(): Promise<void>;
}

const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (.*)$/s;

export function parseFrame(line: string): ReceivedMessage {
  const m = RFC5424.exec(line);
  const pri = Number(m?.[1] ?? -1);
  return {
    raw: line,
    timestamp: m?.[2] ?? '',
    hostname: m?.[3] ?? '',
    appname: m?.[4] ?? '',
    procid: m?.[5] ?? '',
    msgid: m?.[6] ?? '',
    structuredData: m?.[7] ?? '',
    severity: pri % 8,
    facility: Math.floor(pri / 8),
    msg: m?.[8] ?? '',
  };
}

export async function startClosingReceiver(cert: ServerCert, idleCloseMs: number): Promise<ClosingReceiver> {
  const kept: ReceivedMessage[] = [];
  let connections = 0;
  let idleClosed = 0;
  let droppedBytes = 0;
  const sockets = new Set<Socket>();

  const server = tls.createServer({ cert: cert.cert, key: cert.key }, (socket) => {
    connections++;
    sockets.add(socket);
    const chunks: Buffer[] = [];
    let closedIdle = false;
    const idle = setTimeout(() => {
      closedIdle = true;
      idleClosed++;
      socket.end();
    }, idleCloseMs);
    socket.on('data', (chunk: Buffer) => {
      clearTimeout(idle);
      if (closedIdle) droppedBytes += chunk.length;
      else chunks.push(chunk);
    });
    socket.on('end', () => {
      clearTimeout(idle);
      if (closedIdle) return;
      // Everything up to the sender's end of stream is kept before the receiver closes: a true confirmation.
      for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) if (line !== '') kept.push(parseFrame(line));
      socket.end();
    });
    socket.on('error', () => clearTimeout(idle));
    socket.on('close', () => {
      clearTimeout(idle);
      sockets.delete(socket);
    });
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
    connections: () => connections,
    idleClosed: () => idleClosed,
    droppedBytes: () => droppedBytes,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
