/** For `serve` settings: the port it would listen on is free (bound and released at once). */
import { createServer } from 'node:net';
import { failed, ok, type CheckItem } from './checklist';

const NAME = 'service port free';

export async function checkPort(host: string, port: number): Promise<CheckItem> {
  if (port === 0) return ok(NAME, 'PORT=0: the service picks a free port when it starts');
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, resolve);
    });
    return ok(NAME, `${host}:${port} is free`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    const fix = code === 'EADDRINUSE' ? 'stop what listens there (another serve?) or set PORT to a free port.' : code === 'EACCES' ? 'ports below 1024 need privileges: set PORT to 1024 or above.' : 'set HOST to an address of this machine.';
    return failed(NAME, `cannot listen on ${host}:${port} (${code})`, fix);
  } finally {
    await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  }
}
