/**
 * A minimal HTTPS client over node:https: one keep-alive agent, a hard
 * timeout per request, and the system's trust store (plus NODE_EXTRA_CA_CERTS).
 * TLS verification is never switched off.
 *
 * `https.request` is called with ONE options object and a callback, never as
 * `(url, options, callback)`. The extension runs inside someone else's
 * process, and some hosts replace `https.request` process-wide with a
 * two-argument wrapper: wt-cli's `wt serve` loads agent-base@4, whose
 * patch-core.js treats the first argument as the options and the second as
 * the callback, so the three-argument form loses its options and fails with
 * 'The "listener" argument must be of type function'. The two-argument form
 * works both with and without such a patch.
 */
import https from 'node:https';

export interface HttpResponse {
  status: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH';
  url: URL;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called once the request is handed to the network, whatever becomes of it (the way Auth0 counts it against the rate limit). */
  onSent?: () => void;
}

export type HttpTransport = (request: HttpRequest) => Promise<HttpResponse>;

export class HttpTimeoutError extends Error {
  override readonly name = 'HttpTimeoutError';
}

/** Largest body accepted: 100 logs of Papertrail-sized events, with room to spare. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * The parts of a URL that `https.request` takes as options. The port is always
 * explicit: a two-argument wrapper may default a missing one to 443 itself.
 */
export function requestTarget(url: URL): { protocol: string; hostname: string; port: number; path: string } {
  if (url.protocol !== 'https:') throw new Error(`Only https URLs are requested, not ${url.protocol}`);
  // URL keeps an IPv6 literal in brackets; the socket layer wants it bare.
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { protocol: 'https:', hostname, port: url.port === '' ? 443 : Number(url.port), path: `${url.pathname}${url.search}` };
}

export function createHttpsTransport(): HttpTransport & { close(): void } {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 4 });
  const transport = (request: HttpRequest): Promise<HttpResponse> =>
    new Promise<HttpResponse>((resolve, reject) => {
      const req = https.request(
        { ...requestTarget(request.url), method: request.method, agent, headers: request.headers ?? {}, timeout: request.timeoutMs, ...(request.signal ? { signal: request.signal } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY_BYTES) {
              req.destroy(new Error(`response body exceeds ${MAX_BODY_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      // `timeout` only covers socket inactivity; the overall timer bounds slow-drip responses too.
      const timer = setTimeout(() => req.destroy(new HttpTimeoutError(`no complete response within ${request.timeoutMs} ms`)), request.timeoutMs);
      req.on('timeout', () => req.destroy(new HttpTimeoutError(`no response within ${request.timeoutMs} ms`)));
      req.on('error', reject);
      req.on('close', () => clearTimeout(timer));
      if (request.onSent) req.once('finish', request.onSent);
      req.end(request.body);
    });
  return Object.assign(transport, { close: () => agent.destroy() });
}
