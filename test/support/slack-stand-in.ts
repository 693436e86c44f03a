/**
 * A local stand-in for a Slack incoming webhook: HTTPS on 127.0.0.1 with a
 * certificate from the test PKI (the client trusts its CA the way a user with
 * a private CA would, never by turning verification off). It records every
 * body it is sent and can answer `ok`, answer 500, hang without answering,
 * refuse connections altogether, or answer as Slack documents a refused post:
 * 429 with Retry-After (its rate limit), and 4xx with Slack's plain-text error
 * codes (400 invalid_payload, 403 action_prohibited, 404 channel_not_found,
 * 410 channel_is_archived).
 */
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { ServerCert } from './certs';

export type StandInMode =
  | 'ok'
  | 'error-500'
  | 'hang'
  | 'refuse'
  /** 429 with `Retry-After: retryAfterSeconds` for the next `times` posts, then `ok`. */
  | { rateLimited: { retryAfterSeconds: number; times: number } }
  /** One of Slack's documented refusals. */
  | { slackError: 400 | 403 | 404 | 410 };

/** Slack's plain-text bodies for refused incoming-webhook posts. */
const SLACK_ERRORS: Readonly<Record<400 | 403 | 404 | 410, string>> = { 400: 'invalid_payload', 403: 'action_prohibited', 404: 'channel_not_found', 410: 'channel_is_archived' };

export interface SlackStandIn {
  /** The webhook URL, with a secret-looking path as Slack's have. */
  readonly url: string;
  readonly port: number;
  /** Every request body received, parsed, in arrival order (including ones answered 500 or left hanging). */
  readonly bodies: { text: string; blocks?: unknown }[];
  /** Bodies as received, for scanning. */
  readonly raw: string[];
  /** When each post arrived (epoch ms), to check a client waited as Retry-After asked. */
  readonly arrivals: number[];
  setMode(mode: StandInMode): Promise<void>;
  stop(): Promise<void>;
}

export const STAND_IN_PATH = '/services/T0TESTTEAM/B0TESTHOOK/s3cr3tWebhookPathToken0123';

export async function startSlackStandIn(cert: ServerCert, initial: StandInMode = 'ok'): Promise<SlackStandIn> {
  const bodies: { text: string; blocks?: unknown }[] = [];
  const raw: string[] = [];
  const arrivals: number[] = [];
  const sockets = new Set<Socket>();
  let mode: StandInMode = initial;
  let port = 0;
  let server: Server | null = null;

  const listen = async (): Promise<void> => {
    const s = createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        raw.push(text);
        arrivals.push(Date.now());
        try {
          bodies.push(JSON.parse(text) as { text: string });
        } catch {
          bodies.push({ text: `(not JSON) ${text}` });
        }
        if (req.url !== STAND_IN_PATH || req.method !== 'POST') {
          res.writeHead(404).end('no_service');
        } else if (mode === 'ok') {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        } else if (mode === 'error-500') {
          res.writeHead(500, { 'content-type': 'text/plain' }).end('internal_error');
        } else if (typeof mode === 'object' && 'rateLimited' in mode) {
          const { retryAfterSeconds, times } = mode.rateLimited;
          if (times > 0) {
            mode = { rateLimited: { retryAfterSeconds, times: times - 1 } };
            res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': String(retryAfterSeconds) }).end('rate_limited');
          } else {
            res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
          }
        } else if (typeof mode === 'object' && 'slackError' in mode) {
          res.writeHead(mode.slackError, { 'content-type': 'text/plain' }).end(SLACK_ERRORS[mode.slackError]);
        }
        // 'hang': never answer; the socket stays open until the client gives up or stop().
      });
    });
    s.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as { port: number }).port;
    server = s;
  };

  const close = async (): Promise<void> => {
    const s = server;
    server = null;
    if (!s) return;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  if (initial !== 'refuse') await listen();
  else {
    // Reserve a port, then free it: connections to it are refused.
    await listen();
    await close();
  }

  return {
    get url() {
      return `https://127.0.0.1:${port}${STAND_IN_PATH}`;
    },
    get port() {
      return port;
    },
    bodies,
    raw,
    arrivals,
    async setMode(next: StandInMode) {
      if (next === 'refuse') await close();
      else if (server === null) await listen();
      mode = next;
    },
    stop: close,
  };
}
