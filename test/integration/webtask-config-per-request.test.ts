/**
 * A warm webtask container serves many requests with one loaded module.
 * The original built its app and config once per container, so a changed
 * secret was ignored until the container was recycled. Ours reads the secrets
 * of each request's context.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

type Handler = (context: unknown, req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let url: string;
let secretsForNextRequest: Record<string, string> = {};
const storageData: { value: unknown } = { value: undefined };

beforeAll(async () => {
  // The extension logs to the console (the platform's realtime logs); keep the test output clean.
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const handler = require(join(__dirname, '..', '..', 'dist', 'webtask.js')) as Handler;
  const storage = {
    get: (cb: (e: unknown, d?: unknown) => void) => cb(null, storageData.value),
    set: (d: unknown, _o: unknown, cb: (e?: unknown) => void) => {
      storageData.value = d;
      cb();
    },
  };
  server = createServer((req, res) => {
    // What the webtask runtime attaches to each request (a wildcard-domain URL).
    Object.assign(req, { x_wt: { container: 'tenant', jtn: 'auth0-logs-to-papertrail', url_format: 3 } });
    handler({ secrets: { ...secretsForNextRequest }, storage }, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  jest.restoreAllMocks();
  await new Promise((resolve) => server.close(resolve));
});

it('reads the settings of every request anew in a warm container', async () => {
  const valid = { AUTH0_DOMAIN: 't.auth0.com', AUTH0_CLIENT_ID: 'id', AUTH0_CLIENT_SECRET: 'secret-value', PAPERTRAIL_HOST: 'logs.example.com', PAPERTRAIL_PORT: '1234' };
  secretsForNextRequest = { ...valid, BATCH_SIZE: '500' };
  const first = await fetch(`${url}/health`);
  expect(first.status).toBe(400);
  expect(await first.json()).toMatchObject({ error: { settings: ['BATCH_SIZE'] } });

  secretsForNextRequest = { ...valid, BATCH_SIZE: '50' };
  const second = await fetch(`${url}/health`);
  expect(second.status).toBe(200);
  expect(await second.json()).toMatchObject({ status: 'idle', running: false });
});
