/**
 * A stand-in for Papertrail: a TLS syslog receiver on 127.0.0.1 that keeps
 * every RFC 5424 line it is sent, in arrival order.
 *
 * It behaves the way the product relies on a real receiver behaving: having
 * read up to the client's end of stream, it closes its own side. The CLI only
 * counts a page as shipped once it sees that close (see TlsSyslogSink), so a
 * receiver that never answered the client's FIN would make every page time out.
 */
import type { AddressInfo, Socket } from 'node:net';
import tls from 'node:tls';

export interface SyslogMessage {
  facility: number;
  severity: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  structuredData: string;
  msg: string;
  /** The line as received, without its LF. */
  raw: string;
}

export interface SyslogReceiver {
  readonly port: number;
  /** Parsed lines, in the order they arrived. */
  readonly messages: readonly SyslogMessage[];
  /** Lines that were not RFC 5424, kept so a caller can report them. */
  readonly malformed: readonly string[];
  /** TLS connections that carried data (the product opens the next page's connection ahead, so its last one carries none). */
  connectionsWithData(): number;
  /** Closes the server and every open connection. Safe to call more than once. */
  stop(): Promise<void>;
}

// PRI, VERSION, TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID; the rest is SD and MSG.
const HEADER = /^<(\d{1,3})>([1-9]\d{0,2}) (\S+) (\S+) (\S+) (\S+) (\S+) (.*)$/s;

/** Length of the STRUCTURED-DATA at the start of `rest`: "-" or one or more [elements]. */
function structuredDataLength(rest: string): number | undefined {
  if (rest.startsWith('-')) return 1;
  let i = 0;
  while (rest[i] === '[') {
    // Inside an element, "]" closes it unless it sits in a quoted value, where "\" escapes it.
    let quoted = false;
    for (i++; i < rest.length; i++) {
      const c = rest[i];
      if (quoted && c === '\\') i++;
      else if (c === '"') quoted = !quoted;
      else if (c === ']' && !quoted) break;
    }
    if (i >= rest.length) return undefined;
    i++;
  }
  return i > 0 ? i : undefined;
}

export function parseRfc5424(line: string): SyslogMessage | undefined {
  const m = HEADER.exec(line);
  if (!m) return undefined;
  const [, pri, , timestamp, hostname, appName, procId, msgId, rest] = m;
  const priority = Number(pri);
  if (priority > 191 || rest === undefined) return undefined;
  const sdLength = structuredDataLength(rest);
  if (sdLength === undefined) return undefined;
  // MSG is optional; when present it follows the SD after one space, maybe after a UTF-8 BOM.
  const after = rest.slice(sdLength);
  if (after !== '' && !after.startsWith(' ')) return undefined;
  return {
    facility: priority >> 3,
    severity: priority & 7,
    timestamp: timestamp ?? '-',
    hostname: hostname ?? '-',
    appName: appName ?? '-',
    procId: procId ?? '-',
    msgId: msgId ?? '-',
    structuredData: rest.slice(0, sdLength),
    msg: after.slice(1).replace(/^\uFEFF/, ''),
    raw: line,
  };
}

export async function startSyslogReceiver(tlsOptions: { cert: string; key: string }): Promise<SyslogReceiver> {
  const messages: SyslogMessage[] = [];
  const malformed: string[] = [];
  const sockets = new Set<Socket>();
  let withData = 0;

  const keep = (line: string): void => {
    const parsed = parseRfc5424(line);
    if (parsed) messages.push(parsed);
    else malformed.push(line);
  };

  // allowHalfOpen: the client's FIN must not close our side before we have
  // read everything; we close it ourselves on 'end', which is the confirmation.
  const server = tls.createServer({ ...tlsOptions, allowHalfOpen: true, minVersion: 'TLSv1.2' }, (socket) => {
    /** The start of a line whose LF has not arrived yet. */
    let pending = '';
    let carriedData = false;
    // setEncoding decodes UTF-8 across chunk boundaries, so a character split between two reads survives.
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      if (!carriedData) withData++;
      carriedData = true;
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) keep(line);
    });
    socket.on('end', () => {
      // A last line without its LF is still data the client sent; keep it rather than lose it.
      if (pending !== '') keep(pending);
      pending = '';
      socket.end();
    });
    // A client that resets is the client's problem to report; the receiver just forgets it.
    socket.on('error', () => socket.destroy());
  });
  // Raw TCP sockets, tracked from accept on: stop() must also end connections still in their handshake.
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A client that gives up during the handshake must not crash the demo.
  server.on('tlsClientError', () => undefined);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  let stopping: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    messages,
    malformed,
    connectionsWithData: () => withData,
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return stopping;
    },
  };
}
