import { logIdOf, type Auth0Log } from '../auth0/auth0-log';
import { Auth0ApiError } from '../errors';
import type { Auth0LogsClient, LogsQuery } from '../ports';
import { compareLogIds } from '../storage/state';

export interface FetchedPage {
  logs: Auth0Log[];
  /** The newest id in the page: the checkpoint once the page is shipped. */
  lastId: string;
}

export async function fetchLogs(client: Auth0LogsClient, query: LogsQuery): Promise<FetchedPage> {
  const { from } = query;
  const { logs } = await client.getLogs(query);
  let lastId = from;
  for (const log of logs) {
    const id = logIdOf(log) as string; // the client guarantees every entry has one
    if (compareLogIds(id, from) <= 0) {
      // Checkpoint mode returns only newer logs; anything else would move the checkpoint backwards.
      throw new Auth0ApiError(`Auth0 returned log ${id}, which is not after the requested checkpoint ${from}.`, { code: 'AUTH0_BAD_RESPONSE', retriable: true });
    }
    if (compareLogIds(id, lastId) > 0) lastId = id;
  }
  return { logs, lastId };
}
