/**
 * The doctor's checklist: what `auth0-logs-to-papertrail check` prints and the
 * dashboard's admin view shows. Each item passed, failed with a fix, or was
 * skipped (with why: an earlier item failed, or it was not asked for).
 */
export type CheckStatus = 'ok' | 'failed' | 'skipped';

export interface CheckItem {
  /** What was verified, e.g. "Auth0 credentials accepted". */
  name: string;
  status: CheckStatus;
  /** What was found; never a secret. */
  detail: string;
  /** What to do about a failure. */
  fix?: string;
}

export interface Checklist {
  /** True only when no item failed. */
  ok: boolean;
  items: CheckItem[];
}

export const ok = (name: string, detail: string): CheckItem => ({ name, status: 'ok', detail });
export const failed = (name: string, detail: string, fix: string): CheckItem => ({ name, status: 'failed', detail, fix });
export const skipped = (name: string, detail: string): CheckItem => ({ name, status: 'skipped', detail });

const MARK: Record<CheckStatus, string> = { ok: '[ok]  ', failed: '[FAIL]', skipped: '[skip]' };

/** The checklist as lines for a terminal. */
export function printChecklist(list: Checklist): string {
  const lines = list.items.flatMap((item) => [`${MARK[item.status]} ${item.name}: ${item.detail}`, ...(item.fix === undefined ? [] : [`       To fix: ${item.fix}`])]);
  const failures = list.items.filter((item) => item.status === 'failed').length;
  lines.push('', list.ok ? 'All checks passed.' : `${failures} check${failures === 1 ? '' : 's'} failed.`);
  return `${lines.join('\n')}\n`;
}
