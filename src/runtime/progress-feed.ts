/**
 * The service's recent progress lines, for the dashboard's live view: a
 * bounded ring of the last lines (numbered, so a reconnecting viewer asks for
 * what it missed) and the viewers following it. Lines arrive redacted from the
 * logger; nothing here holds more than `capacity` lines.
 */
import type { ProgressLine } from './logger';

export interface NumberedLine extends ProgressLine {
  id: number;
}

export class ProgressFeed {
  private readonly lines: NumberedLine[] = [];
  private readonly viewers = new Map<(line: NumberedLine) => void, () => void>();
  private next = 1;

  constructor(readonly capacity = 500) {}

  push(line: ProgressLine): void {
    const numbered = { id: this.next++, ...line };
    this.lines.push(numbered);
    if (this.lines.length > this.capacity) this.lines.shift();
    for (const viewer of this.viewers.keys()) viewer(numbered);
  }

  /** The kept lines after `id` (all of them for 0). */
  since(id: number): NumberedLine[] {
    return this.lines.filter((l) => l.id > id);
  }

  /** Follows new lines until the returned function is called, or `ended` is called by close(). */
  follow(viewer: (line: NumberedLine) => void, ended: () => void = () => undefined): () => void {
    this.viewers.set(viewer, ended);
    return () => this.viewers.delete(viewer);
  }

  /** Ends every viewer's connection (a shutdown must not wait for open live views). */
  close(): void {
    const ended = [...this.viewers.values()];
    this.viewers.clear();
    for (const end of ended) end();
  }

  get following(): number {
    return this.viewers.size;
  }
}
