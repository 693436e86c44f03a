import type { Environment } from './config';

/** The HTTP service with its scheduler; see the extension/service work. */
export async function serve(_env: Environment): Promise<number> {
  process.stderr.write('serve is not available in this version yet.\n');
  return 2;
}
