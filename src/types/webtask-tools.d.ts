declare module 'webtask-tools' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  type Handler = (req: IncomingMessage, res: ServerResponse) => void;
  export function fromExpress(app: Handler): (context: unknown, req: IncomingMessage, res: ServerResponse) => void;
}
