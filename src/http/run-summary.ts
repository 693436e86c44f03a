import type { ErrorRecord } from '../errors';

/** The fields of a run that anyone who can trigger one may see. */
export interface SummarySource {
  status: string;
  fetched: number;
  exported: number;
  filteredOut: number;
  truncated: number;
  pages: number;
  stoppedBy: string;
  durationMs: number;
  error?: ErrorRecord | undefined;
  runId?: string;
}

/** What an unauthenticated caller may see of a run: status and counts, and an error's code but not its message. */
export function summary(result: SummarySource) {
  return {
    status: result.status,
    ...(result.runId === undefined ? {} : { runId: result.runId }),
    fetched: result.fetched,
    exported: result.exported,
    filteredOut: result.filteredOut,
    truncated: result.truncated,
    pages: result.pages,
    stoppedBy: result.stoppedBy,
    durationMs: result.durationMs,
    ...(result.error ? { error: { code: result.error.code } } : {}),
  };
}
