/**
 * LogSink over TLS syslog (LF framing), built on node:tls.
 *
 * Syslog has no acknowledgement, and a write callback only means the bytes
 * reached our kernel: if the receiver dies, whatever sat in socket buffers is
 * gone. So a page is confirmed the only way the protocol allows: it is written
 * on a connection of its own, we close our side (TLS close_notify + FIN), and
 * the page counts as shipped only when the receiver, having read everything up
 * to our end of stream, closes its side too. A reset, a write error or no close
 * within the timeout fails the page, and the checkpoint stays where it was.
 *
 * To keep the handshake off the critical path, the connection for the next page
 * is opened while the current one is being written and closed. It doubles as a
 * witness: a receiver that stops or dies while processing a page still closes
 * its connections, which looks like a confirmation, but it closes the witness
 * at the same moment. A witness lost around a confirmation puts that page in
 * doubt (see `settle`), and the run ships it again.
 *
 * Certificates and host names are always verified (system trust store, plus
 * NODE_EXTRA_CA_CERTS, plus `ca` for tests); SNI is sent for host names.
 */
import { isIP } from 'node:net';
import tls from 'node:tls';
import { SinkError } from '../errors';
import { systemClock } from '../clock';
import { MAX_SENDS_IN_DOUBT, SEND_IN_DOUBT_MS, type Clock, type LogSink } from '../ports';
import { isCertificateFailure } from '../tls-trust';

export interface TlsSyslogSinkOptions {
  host: string;
  port: number;
  /** Extra CA certificates to trust in addition to the system's (tests, private receivers). */
  ca?: string | Buffer;
  connectTimeoutMs?: number;
  closeTimeoutMs?: number;
  /** A pre-opened connection idle for longer than this is replaced rather than trusted. */
  maxIdleMs?: number;
  /** Judges when a receiver went away relative to a confirmation; tests pin it. */
  clock?: Pick<Clock, 'now'>;
  /** Shared by sinks to the same receiver with the same options (the log stream opens one per delivery). */
  sessions?: TlsSessionCache;
}

/** The TLS context, the last session the receiver offered, and whether it resumes them at all. */
export class TlsSessionCache {
  context: tls.SecureContext | undefined;
  session: Buffer | undefined;
  resumes = true;
}

interface Opened {
  socket: tls.TLSSocket;
  openedAt: number;
  /** When the receiver closed or reset this connection before we used it. */
  goneAt: number | undefined;
}

/** The connection opened ahead, or why and when it could not be made. */
type Spare = { opened: Opened } | { failure: unknown; failedAt: number };

/**
 * A connection opened ahead that the receiver closes this soon after confirming
 * a page (or before) means the receiver went away around that confirmation.
 * Later closures are idle timeouts, which some receivers and load balancers apply.
 */
const RECEIVER_GONE_WINDOW_MS = 20;
/**
 * A page that fails (reset, write error, no close) this soon after the previous
 * page's confirmation puts that page in doubt too: an idle timeout never cuts a
 * connection in use, so the receiver went away, and a shutdown spread over tens
 * to hundreds of milliseconds may have dropped the page it had just confirmed.
 */
const RECEIVER_GONE_IN_USE_MS = SEND_IN_DOUBT_MS;

export class TlsSyslogSink implements LogSink {
  private spare: Promise<Spare> | null = null;
  private closed = false;
  private readonly where: string;
  /** Built once: creating a context per connection costs more than the rest of a handshake. */
  private readonly secureContext: tls.SecureContext;
  /**
   * The last TLS session the receiver offered. Resuming it skips the certificate
   * exchange, which Node verified (chain and host name) when the session was made.
   * Dropped for good once a receiver declines to resume, since offering costs time too.
   */
  private readonly sessions: TlsSessionCache;
  /** When the last page was confirmed; undefined before the first. */
  private lastConfirmedAt: number | undefined;
  /**
   * When the recent pages were confirmed, oldest first: a receiver whose shutdown is spread out can
   * drop a page, then confirm (or seem to confirm) the next, before the witness or a failure shows it
   * went away; every page confirmed within RECEIVER_GONE_IN_USE_MS of that moment is in doubt.
   */
  private recentConfirmations: number[] = [];
  private readonly clock: Pick<Clock, 'now'>;

  constructor(private readonly options: TlsSyslogSinkOptions) {
    this.where = `${options.host}:${options.port}`;
    this.clock = options.clock ?? systemClock;
    this.sessions = options.sessions ?? new TlsSessionCache();
    // Without `ca`, the context trusts Node's root store plus NODE_EXTRA_CA_CERTS.
    this.secureContext = this.sessions.context ??= tls.createSecureContext({
      minVersion: 'TLSv1.2',
      ...(options.ca === undefined ? {} : { ca: [...tls.rootCertificates, options.ca.toString()] }),
    });
  }

  async send(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    if (this.closed) throw new SinkError('The Papertrail sink is closed.', { code: 'SINK_CLOSED', host: this.options.host, port: this.options.port });
    const opened = await this.takeConnection();
    // Open the next page's connection now, so its handshake overlaps this page.
    this.spare = this.openAhead();
    const { socket } = opened;
    try {
      await this.write(socket, lines.join('\n') + '\n');
      await this.closeConfirmed(socket);
      this.confirmed(this.clock.now());
    } catch (error) {
      const confirmedAt = this.lastConfirmedAt;
      if (confirmedAt !== undefined && this.clock.now() - confirmedAt <= RECEIVER_GONE_IN_USE_MS && !(error instanceof SinkError && error.code === 'SINK_TLS_REJECTED')) {
        const inDoubt = this.confirmedSince(this.clock.now() - RECEIVER_GONE_IN_USE_MS);
        throw new SinkError(
          `Papertrail at ${this.where} went away ${this.clock.now() - confirmedAt} ms after confirming the last page, while the next was being sent; ` +
            `${inDoubt === 1 ? 'that page' : `the last ${inDoubt} pages confirmed`} may have been read without being kept, so ${inDoubt === 1 ? 'it is' : 'they are'} not counted as shipped.`,
          { code: 'SINK_RECEIVER_GONE', cause: error, host: this.options.host, port: this.options.port, inDoubt },
        );
      }
      throw error;
    } finally {
      socket.destroy();
    }
  }

  /**
   * Releases the connection opened ahead. Like `send`, it first checks that the
   * receiver did not go away right after confirming the last page.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const spare = this.spare;
    this.spare = null;
    if (!spare) return;
    const opened = await this.settle(spare);
    if (opened) {
      opened.socket.end();
      opened.socket.destroy();
    }
  }

  /**
   * What `close` checks, keeping the connection opened ahead for the next
   * `send` when it is healthy: a sink that serves one shipment after another
   * (the log stream's) pays one handshake per shipment, and it is paid while
   * the previous shipment is in flight.
   */
  async checkLastConfirmed(): Promise<void> {
    const spare = this.spare;
    if (this.closed || !spare) return;
    this.spare = null;
    const opened = await this.settle(spare);
    // Unless `send` or `close` came meanwhile (callers do not do that), put it back.
    if (opened && this.spare === null && !this.closed) this.spare = Promise.resolve({ opened });
    else opened?.socket.destroy();
  }

  /** The connection opened ahead when it is still healthy, else a fresh one. */
  private async takeConnection(): Promise<Opened> {
    const spare = this.spare;
    this.spare = null;
    if (spare) {
      const opened = await this.settle(spare);
      if (opened && this.clock.now() - opened.openedAt <= (this.options.maxIdleMs ?? 10_000)) return opened;
      // Unusable or stale, but not evidence of anything: start afresh.
      opened?.socket.destroy();
    }
    return this.open();
  }

  /**
   * Resolves the connection opened ahead, or undefined when it is unusable.
   *
   * That connection was made while the previous page was in flight, to the same
   * receiver. If the receiver closed or reset it, or it could not be made, at
   * about the time the receiver confirmed that page, the receiver went away then,
   * and may have read the page without keeping it (a receiver stopping or killed
   * mid-processing still closes its connections, which looks like a
   * confirmation). Syslog cannot tell, so the page is reported as in doubt
   * (SINK_RECEIVER_GONE) and the run ships it again.
   */
  private async settle(spare: Promise<Spare>): Promise<Opened | undefined> {
    const result = await spare;
    let opened: Opened | undefined;
    let failure: unknown;
    let goneAt: number | undefined;
    if ('opened' in result) {
      opened = result.opened;
      // Let a close or reset that has already arrived be processed before judging.
      await new Promise((resolve) => setImmediate(resolve));
      goneAt = opened.goneAt;
    } else {
      ({ failure, failedAt: goneAt } = result);
      if (failure instanceof SinkError && failure.code === 'SINK_TLS_REJECTED') throw failure;
    }
    if (goneAt === undefined) return opened;
    opened?.socket.destroy();
    if (this.lastConfirmedAt !== undefined && goneAt - this.lastConfirmedAt <= RECEIVER_GONE_WINDOW_MS) {
      const inDoubt = this.confirmedSince(Math.min(goneAt, this.lastConfirmedAt) - RECEIVER_GONE_IN_USE_MS);
      throw new SinkError(
        `Papertrail at ${this.where} went away right after confirming the last page; ` +
          `${inDoubt === 1 ? 'that page' : `the last ${inDoubt} pages confirmed`} may have been read without being kept, so ${inDoubt === 1 ? 'it is' : 'they are'} not counted as shipped.`,
        { code: 'SINK_RECEIVER_GONE', cause: failure, host: this.options.host, port: this.options.port, inDoubt },
      );
    }
    return undefined;
  }

  private confirmed(at: number): void {
    this.lastConfirmedAt = at;
    this.recentConfirmations = this.recentConfirmations.filter((t) => at - t <= RECEIVER_GONE_IN_USE_MS);
    this.recentConfirmations.push(at);
  }

  /**
   * How many of the recent pages were confirmed at or after `since`: the last one, and the one before it
   * when that was confirmed within the window too. Not more: a receiver that drops a page and confirms
   * the next before its shutdown shows is the case seen; reaching further back would re-ship a whole
   * second of a drain on every receiver restart.
   */
  private confirmedSince(since: number): number {
    return Math.min(MAX_SENDS_IN_DOUBT, Math.max(1, this.recentConfirmations.filter((t) => t >= since).length));
  }

  /** Opens a connection for the next page; never rejects, so an unused failure is not left unhandled. */
  private openAhead(): Promise<Spare> {
    return this.open().then(
      (opened) => ({ opened }),
      (failure: unknown) => ({ failure, failedAt: this.clock.now() }),
    );
  }

  private open(): Promise<Opened> {
    const { host, port } = this.options;
    return new Promise<Opened>((resolve, reject) => {
      const socket = tls.connect({
        host,
        port,
        ...(isIP(host) === 0 ? { servername: host } : {}),
        secureContext: this.secureContext,
        rejectUnauthorized: true,
        ...(this.sessions.session === undefined ? {} : { session: this.sessions.session }),
      });
      const offered = this.sessions.session !== undefined;
      socket.on('session', (session: Buffer) => {
        if (this.sessions.resumes) this.sessions.session = session;
      });
      const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new SinkError(`Could not connect to Papertrail at ${this.where}: no TLS session within ${timeoutMs} ms.`, { code: 'SINK_TIMEOUT', host, port }));
      }, timeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        if (offered && !socket.isSessionReused()) {
          this.sessions.resumes = false;
          this.sessions.session = undefined;
        }
        const opened: Opened = { socket, openedAt: this.clock.now(), goneAt: undefined };
        socket.removeAllListeners('error');
        // Until a page is written on it, a failure is only recorded; whoever uses the connection reports it.
        const gone = (): void => {
          opened.goneAt ??= this.clock.now();
        };
        socket.on('error', gone);
        socket.once('end', gone);
        socket.once('close', gone);
        // Flowing, so that a close from the receiver is noticed while the connection waits.
        socket.resume();
        resolve(opened);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        reject(this.connectError(error));
      });
    });
  }

  private connectError(error: NodeJS.ErrnoException): SinkError {
    const { host, port } = this.options;
    const code = error.code ?? '';
    if (isCertificateFailure(code)) {
      return new SinkError(
        `Refused to send to Papertrail at ${this.where}: its TLS certificate failed verification (${code}: ${error.message}). Nothing was sent. ` +
          'Check PAPERTRAIL_HOST; for a receiver with a private CA, add the CA with NODE_EXTRA_CA_CERTS.',
        { code: 'SINK_TLS_REJECTED', retriable: false, cause: error, host, port },
      );
    }
    const why = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' ? 'host name not found' : error.message;
    return new SinkError(`Could not connect to Papertrail at ${this.where}: ${why}.`, { code: 'SINK_UNREACHABLE', cause: error, host, port });
  }

  private write(socket: tls.TLSSocket, data: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // One write per page: at most one page is ever buffered in this process,
      // and the callback fires only once the bytes are handed to the kernel.
      socket.write(data, 'utf8', (error) => {
        if (error) reject(this.pageError('writing', error));
        else resolve();
      });
    });
  }

  private closeConfirmed(socket: tls.TLSSocket): Promise<void> {
    const timeoutMs = this.options.closeTimeoutMs ?? 15_000;
    return new Promise<void>((resolve, reject) => {
      let peerEnded = socket.readableEnded;
      let failure: Error | undefined;
      const timer = setTimeout(() => {
        reject(new SinkError(`Papertrail at ${this.where} did not confirm the end of the page within ${timeoutMs} ms; the page is not counted as shipped.`, {
          code: 'SINK_TIMEOUT',
          host: this.options.host,
          port: this.options.port,
        }));
      }, timeoutMs);
      socket.on('end', () => {
        peerEnded = true;
      });
      socket.on('error', (error) => {
        failure ??= error;
      });
      socket.once('close', () => {
        clearTimeout(timer);
        if (failure) reject(this.pageError('closing', failure));
        else if (!peerEnded) reject(new SinkError(`Papertrail at ${this.where} dropped the connection without closing it; the page is not counted as shipped.`, { code: 'SINK_RESET', host: this.options.host, port: this.options.port }));
        else resolve();
      });
      // Data still buffered for a reader that stops reading cannot be confirmed; resume keeps 'end' flowing.
      socket.resume();
      socket.end();
    });
  }

  private pageError(stage: string, error: Error): SinkError {
    const code = (error as NodeJS.ErrnoException).code;
    return new SinkError(`Papertrail at ${this.where} failed while ${stage} a page (${code ?? error.message}); the page is not counted as shipped.`, {
      code: code === 'ECONNRESET' || code === 'EPIPE' ? 'SINK_RESET' : 'SINK_ERROR',
      cause: error,
      host: this.options.host,
      port: this.options.port,
    });
  }
}
