/**
 * A minimal HTTPS client over node:https: one keep-alive agent, a hard
 * timeout per request, and the system's trust store (plus NODE_EXTRA_CA_CERTS).
 * TLS verification is never switched off.
 */
import https from 'node:https';

export interface HttpResponse {
  status: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export type HttpTransport = (request: HttpRequest) => Promise<HttpResponse>;

export class HttpTimeoutError extends Error {
  override readonly name = 'HttpTimeoutError';
}

/** Largest body accepted: 100 logs of Papertrail-sized events, with room to spare. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export function createHttpsTransport(): HttpTransport & { close(): void } {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 4 });
  const transport = (request: HttpRequest): Promise<HttpResponse> =>
    new Promise<HttpResponse>((resolve, reject) => {
      const req = https.request(
        request.url,
        { method: request.method, agent, headers: request.headers ?? {}, timeout: request.timeoutMs, ...(request.signal ? { signal: request.signal } : {}) },
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
      req.end(request.body);
    });
  return Object.assign(transport, { close: () => agent.destroy() });
}
