/**
 * The TLS sink against a real TLS server on loopback (node:tls), where each
 * test controls exactly how the receiver behaves.
 */
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { SinkError } from '../../src/errors';
import { TlsSyslogSink } from '../../src/papertrail/tls-syslog-sink';
import { createTestPki, type ServerCert } from '../support/certs';

type Behaviour = 'close-on-end' | 'never-close' | 'reset-on-data' | 'shut-down-after-first-page' | 'close-idle-on-request';

interface Receiver {
  port: number;
  received: string[];
  connections: number;
  servernames: (string | false | null)[];
  /** Closes every connection nothing has arrived on (at least one), like a load balancer's idle timeout. */
  closeIdle(): Promise<void>;
  close(): Promise<void>;
}

async function startReceiver(cert: ServerCert, behaviour: Behaviour = 'close-on-end', port = 0): Promise<Receiver> {
  const state = { received: [] as string[], connections: 0, servernames: [] as (string | false | null)[] };
  const raw = new Set<net.Socket>();
  const idle = new Set<tls.TLSSocket>();
  // A receiver that stopped after answering: it drops every connection, including later ones.
  let shutDown = false;
  // allowHalfOpen: the receiver, not Node, decides whether to close after our end of stream.
  const server = tls.createServer({ cert: cert.cert, key: cert.key, allowHalfOpen: true }, (socket) => {
    state.servernames.push(socket.servername);
    idle.add(socket);
    socket.on('close', () => idle.delete(socket));
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      idle.delete(socket);
      if (behaviour === 'reset-on-data') {
        // A TCP RST, as when a receiver process dies with unread data.
        (socket as unknown as { _parent: net.Socket })._parent.resetAndDestroy();
        return;
      }
      buffer += chunk;
    });
    socket.on('end', () => {
      state.received.push(...buffer.split('\n').filter((l) => l !== ''));
      if (behaviour !== 'never-close') socket.end();
      // A receiver stopping right after it answered: every other connection is closed too.
      if (behaviour === 'shut-down-after-first-page') {
        shutDown = true;
        for (const other of raw) if (other !== (socket as unknown as { _parent: net.Socket })._parent) other.destroy();
      }
    });
    socket.on('error', () => undefined);
  });
  // Counted before the handshake, so connections opened and abandoned are seen too.
  server.on('connection', (socket: net.Socket) => {
    if (shutDown) {
      socket.destroy();
      return;
    }
    state.connections++;
    raw.add(socket);

    socket.on('close', () => raw.delete(socket));
  });
  server.on('tlsClientError', () => undefined);
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    get received() { return state.received; },
    get connections() { return state.connections; },
    get servernames() { return state.servernames; },
    closeIdle: async () => {
      if (behaviour !== 'close-idle-on-request') throw new Error(`a ${behaviour} receiver does not close idle connections`);
      // The client may see its handshake done before this side does.
      await until(() => idle.size > 0, 'an idle connection to close');
      // Closed the way an idle timeout does (end of stream), and done once the client's end of stream
      // comes back: the client answers only from its own 'end' handling, so the sink has seen the close.
      await Promise.all([...idle].map((s) => new Promise<void>((resolve) => {
        s.once('end', () => resolve());
        s.once('close', () => resolve());
        s.end();
      })));
    },
    close: async () => {
      for (const s of raw) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 5) {
    if (waited > 2_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const pki = createTestPki();
const receivers: Receiver[] = [];
const sinks: TlsSyslogSink[] = [];
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function setup(cert: ServerCert, behaviour?: Behaviour, options: { host?: string; closeTimeoutMs?: number } = {}) {
  const receiver = await startReceiver(cert, behaviour);
  receivers.push(receiver);
  const sink = new TlsSyslogSink({ host: options.host ?? 'localhost', port: receiver.port, ca: cert.ca, connectTimeoutMs: 2_000, closeTimeoutMs: options.closeTimeoutMs ?? 2_000 });
  sinks.push(sink);
  return { receiver, sink };
}

describe('TlsSyslogSink', () => {
  it('delivers each line once, in order, and resolves only after the receiver has read the whole page', async () => {
    const { receiver, sink } = await setup(pki.server);
    const page1 = Array.from({ length: 500 }, (_, i) => `<134>1 - h a - t - line ${i}`);
    const page2 = Array.from({ length: 500 }, (_, i) => `<134>1 - h a - t - line ${500 + i}`);
    await sink.send(page1);
    // The receiver records a page only once it has read it to the end.
    expect(receiver.received).toEqual(page1);
    await sink.send(page2);
    expect(receiver.received).toEqual([...page1, ...page2]);
  });

  it('sends SNI for a host name', async () => {
    const { receiver, sink } = await setup(pki.server);
    await sink.send(['x']);
    expect(receiver.servernames[0]).toBe('localhost');
  });

  it('refuses a certificate from an untrusted CA and sends nothing', async () => {
    const { receiver, sink } = await setup(pki.untrusted);
    const error = (await sink.send(['secret event']).catch((e: unknown) => e)) as SinkError;
    expect(error).toBeInstanceOf(SinkError);
    expect(error.code).toBe('SINK_TLS_REJECTED');
    expect(error.message).toMatch(/certificate failed verification/);
    expect(error.message).toContain(`localhost:${receiver.port}`);
    expect(receiver.received).toEqual([]);
  });

  it('refuses a certificate issued for another host name and sends nothing', async () => {
    const { receiver, sink } = await setup(pki.wrongHost);
    const error = (await sink.send(['secret event']).catch((e: unknown) => e)) as SinkError;
    expect(error.code).toBe('SINK_TLS_REJECTED');
    expect(error.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(receiver.received).toEqual([]);
  });

  it('verifies the certificate against the IP address when the host is an IP', async () => {
    const { receiver, sink } = await setup(pki.server, 'close-on-end', { host: '127.0.0.1' });
    await sink.send(['by ip']);
    expect(receiver.received).toEqual(['by ip']);
    expect(receiver.servernames[0]).toBeFalsy();
  });

  it('fails fast and clearly when nothing listens', async () => {
    const { receiver } = await setup(pki.server);
    await receiver.close();
    receivers.length = 0;
    const sink = new TlsSyslogSink({ host: 'localhost', port: receiver.port, ca: pki.server.ca });
    sinks.push(sink);
    const started = Date.now();
    const error = (await sink.send(['x']).catch((e: unknown) => e)) as SinkError;
    expect(error.code).toBe('SINK_UNREACHABLE');
    expect(error.message).toContain('connection refused');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('does not count a page whose receiver resets the connection', async () => {
    const { sink } = await setup(pki.server, 'reset-on-data');
    const error = (await sink.send(['a', 'b']).catch((e: unknown) => e)) as SinkError;
    expect(error).toBeInstanceOf(SinkError);
    expect(error.message).toContain('not counted as shipped');
  });

  it('does not count a page the receiver never confirms by closing', async () => {
    const { sink } = await setup(pki.server, 'never-close', { closeTimeoutMs: 300 });
    const error = (await sink.send(['a']).catch((e: unknown) => e)) as SinkError;
    expect(error.code).toBe('SINK_TIMEOUT');
  });

  it('opens the next page\'s connection ahead of time and releases it on close', async () => {
    const { receiver, sink } = await setup(pki.server);
    await sink.send(['1']);
    await sink.send(['2']);
    await sink.close();
    // Two pages, plus the spare opened during the second page.
    expect(receiver.connections).toBe(3);
    expect(receiver.received).toEqual(['1', '2']);
  });

  it('after a receiver restart right after a page, holds that page in doubt, and the next run reaches the restarted receiver', async () => {
    const first = await startReceiver(pki.server);
    // A stopped clock: the restart lands within the window however slow this machine is right now.
    const clock = { now: () => 0 };
    const sink = new TlsSyslogSink({ host: 'localhost', port: first.port, ca: pki.server.ca, connectTimeoutMs: 2_000, clock });
    sinks.push(sink);
    await sink.send(['before']);
    // The connection opened ahead resolves "localhost" first; on a busy machine it could otherwise reach the second receiver.
    await until(() => first.connections === 2, 'the connection opened ahead');
    await first.close(); // also kills the connection the sink opened ahead for the next page
    const second = await startReceiver(pki.server, 'close-on-end', first.port);
    receivers.push(second);
    await expect(sink.send(['after'])).rejects.toMatchObject({ code: 'SINK_RECEIVER_GONE' });
    const nextRun = new TlsSyslogSink({ host: 'localhost', port: first.port, ca: pki.server.ca });
    sinks.push(nextRun);
    await nextRun.send(['before', 'after']);
    expect(second.received).toEqual(['before', 'after']);
  });

  it('puts in doubt every page it confirmed shortly before the receiver went away, not only the last', async () => {
    const receiver = await startReceiver(pki.server);
    receivers.push(receiver);
    // A stopped clock: both confirmations fall within the window however slow this machine is right now.
    const sink = new TlsSyslogSink({ host: 'localhost', port: receiver.port, ca: pki.server.ca, connectTimeoutMs: 2_000, clock: { now: () => 0 } });
    sinks.push(sink);
    await sink.send(['1']);
    await sink.send(['2']);
    await until(() => receiver.connections === 3, 'the connection opened ahead');
    await receiver.close(); // kills the connection opened ahead: the receiver went away right after confirming page 2
    await expect(sink.send(['3'])).rejects.toMatchObject({ code: 'SINK_RECEIVER_GONE', inDoubt: 2 });
  });

  it('reports the page it just confirmed as in doubt when the receiver goes away right after confirming it', async () => {
    const { sink } = await setup(pki.server, 'shut-down-after-first-page');
    await sink.send(['first']);
    const error = (await sink.send(['second']).catch((e: unknown) => e)) as SinkError;
    expect(error.code).toBe('SINK_RECEIVER_GONE');
  });

  it('checks on closing too, so the last page of a run is not taken on trust', async () => {
    const { sink } = await setup(pki.server, 'shut-down-after-first-page');
    await sink.send(['only']);
    await expect(sink.close()).rejects.toMatchObject({ code: 'SINK_RECEIVER_GONE' });
  });

  it('checks a confirmation without closing, and the connection it opened ahead carries the next send', async () => {
    const { receiver, sink } = await setup(pki.server);
    for (const page of ['1', '2', '3']) {
      await sink.send([page]);
      await sink.checkLastConfirmed();
    }
    await sink.close();
    // Three sends: the first connection, and each one opened ahead carrying the next, plus the last one opened ahead.
    expect(receiver.connections).toBe(4);
    expect(receiver.received).toEqual(['1', '2', '3']);
  });

  it('reports a send in doubt when checked without closing, as on closing', async () => {
    const { sink } = await setup(pki.server, 'shut-down-after-first-page');
    await sink.send(['only']);
    await expect(sink.checkLastConfirmed()).rejects.toMatchObject({ code: 'SINK_RECEIVER_GONE' });
  });

  it('takes a receiver closing idle connections in its stride: a fresh connection, nothing in doubt', async () => {
    const clock = { time: 0, now: () => clock.time };
    const receiver = await startReceiver(pki.server, 'close-idle-on-request');
    receivers.push(receiver);
    const sink = new TlsSyslogSink({ host: 'localhost', port: receiver.port, ca: pki.server.ca, clock });
    sinks.push(sink);
    await sink.send(['first']);
    // 100 ms after the confirmation: an idle close, not a receiver that went away with the page.
    clock.time += 100;
    await receiver.closeIdle(); // the connection opened ahead, well after the confirmation; returns once the sink saw it
    await sink.send(['second']);
    expect(receiver.received).toEqual(['first', 'second']);
  });

  it('sends nothing for an empty page', async () => {
    const { receiver, sink } = await setup(pki.server);
    await sink.send([]);
    // A page after it opens its own connection and one ahead; an empty page that opened one would make three.
    await sink.send(['after']);
    await until(() => receiver.connections >= 2, 'the connection opened ahead');
    await sink.close();
    expect(receiver.received).toEqual(['after']);
    expect(receiver.connections).toBe(2);
  });
});
