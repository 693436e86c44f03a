/**
 * GET /progress (admin only, the service): the service's progress lines as
 * Server-Sent Events, the same redacted lines as stderr. It sends the kept
 * lines after `Last-Event-ID` (all kept lines on a first connection), then
 * each new line as it is written, and a comment every 15 s so proxies keep
 * the connection open. Bounded: at most MAX_VIEWERS connections (503 beyond),
 * and a viewer that stops reading is disconnected once MAX_BUFFERED bytes
 * wait for it; the browser then reconnects and catches up from its last id.
 */
import { Router } from 'express';
import type { NumberedLine, ProgressFeed } from '../runtime/progress-feed';
import type { ScopedHandlers } from './access';

export const PROGRESS_PATH = '/progress';
const MAX_VIEWERS = 10;
const MAX_BUFFERED = 1024 * 1024;
const HEARTBEAT_MS = 15_000;

export function progressRoutes({ adminOnly }: ScopedHandlers, feed: ProgressFeed): Router {
  const router = Router();
  router.get(PROGRESS_PATH, adminOnly(async (req, res) => {
    if (feed.following >= MAX_VIEWERS) {
      res.set('retry-after', '10').status(503).json({ status: 'failed', error: { code: 'TOO_MANY_VIEWERS', message: `At most ${MAX_VIEWERS} live views at once.` } });
      return;
    }
    const lastId = Number(req.get('last-event-id') ?? '0');
    res.status(200).set({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    const send = (line: NumberedLine): void => {
      if (res.writableLength > MAX_BUFFERED) {
        res.destroy();
        return;
      }
      // One data line: messages are single lines, and JSON escapes any newline in them.
      res.write(`id: ${line.id}\ndata: ${JSON.stringify({ at: line.at, level: line.level, message: line.message })}\n\n`);
    };
    res.write('retry: 2000\n\n');
    for (const line of feed.since(Number.isSafeInteger(lastId) && lastId > 0 ? lastId : 0)) send(line);
    const stop = feed.follow(send, () => res.end());
    const heartbeat = setInterval(() => res.write(': still here\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    res.on('close', () => {
      stop();
      clearInterval(heartbeat);
    });
  }));
  return router;
}
