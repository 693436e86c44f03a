/**
 * The admin's live view of the service's progress lines: GET ./progress as
 * Server-Sent Events, read with fetch (EventSource cannot send the
 * Authorization header, and the token never goes in a URL). It keeps the
 * last MAX_LINES lines, reconnects after a dropped connection asking for
 * what it missed (Last-Event-ID), and stops at once on sign-out.
 */
import { h } from './dom';

const MAX_LINES = 300;
const RECONNECT_MS = 2_000;

interface Line {
  at: string;
  level: string;
  message: string;
}

export interface LiveLog {
  /** Follows the feed with `token` (null: stops and forgets what it showed). */
  follow(token: string | null): void;
}

export function createLiveLog(panel: HTMLElement, list: HTMLElement, status: HTMLElement): LiveLog {
  let controller: AbortController | null = null;
  let following: string | null = null;
  let lastId = '';
  let retry: ReturnType<typeof setTimeout> | undefined;

  const show = (line: Line): void => {
    const time = new Date(line.at);
    list.append(h('li', { class: `live-line live-${line.level}` }, h('time', { datetime: line.at, title: line.at }, Number.isNaN(time.getTime()) ? '' : time.toLocaleTimeString()), ' ', line.message));
    while (list.childElementCount > MAX_LINES) list.firstElementChild?.remove();
    list.scrollTop = list.scrollHeight;
  };

  /** Reads one connection's events until it ends; resolves when it does. */
  const read = async (token: string, signal: AbortSignal): Promise<void> => {
    const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${token}` };
    if (lastId !== '') headers['last-event-id'] = lastId;
    const res = await fetch('progress', { headers, cache: 'no-store', credentials: 'omit', redirect: 'error', signal });
    if (res.status !== 200 || !res.body) {
      status.textContent = `The service answered ${res.status}; retrying…`;
      await res.body?.cancel();
      return;
    }
    status.textContent = 'Live';
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let data = '';
        for (const field of event.split('\n')) {
          if (field.startsWith('id: ')) lastId = field.slice(4);
          else if (field.startsWith('data: ')) data += field.slice(6);
        }
        if (data !== '') show(JSON.parse(data) as Line);
      }
    }
  };

  const connect = (token: string): void => {
    const own = new AbortController();
    controller = own;
    read(token, own.signal)
      .catch(() => {
        if (!own.signal.aborted) status.textContent = 'Disconnected; reconnecting…';
      })
      .finally(() => {
        if (own.signal.aborted || following !== token) return;
        status.textContent = 'Disconnected; reconnecting…';
        retry = setTimeout(() => connect(token), RECONNECT_MS);
      });
  };

  return {
    follow(token) {
      if (token === following) return;
      following = token;
      controller?.abort();
      controller = null;
      if (retry !== undefined) clearTimeout(retry);
      panel.hidden = token === null;
      if (token === null) {
        list.replaceChildren();
        lastId = '';
        status.textContent = '';
        return;
      }
      status.textContent = 'Connecting…';
      connect(token);
    },
  };
}
