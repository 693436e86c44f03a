/**
 * An alert as an incoming-webhook payload: `text` (what notifications and
 * Slack-compatible receivers such as Mattermost show) plus the same words as
 * Block Kit sections for Slack. Only what identifies the problem: the tenant,
 * codes, times, counts and a checkpoint; never an event and never a secret.
 */
import type { Alert } from './alert-rules';

export interface MessageContext {
  /** AUTH0_DOMAIN, so an alert says which tenant's export it is about. */
  tenant: string;
}

export interface SlackPayload {
  text: string;
  blocks: { type: 'section'; text: { type: 'mrkdwn'; text: string } }[];
}

/** Slack's mrkdwn gives &, < and > meanings; quoted text must not trigger them. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  return `${Math.round(h / 24)} days`;
}

const at = (checkpoint: string | null): string => (checkpoint === null ? 'none yet' : `\`${escape(checkpoint)}\``);
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Headline and detail lines of an alert. */
function words(alert: Alert): [string, string[]] {
  switch (alert.kind) {
    case 'failing':
      return [':red_circle: Export failing', [
        `Failed since ${alert.since} (${escape(alert.trigger)} run): \`${escape(alert.code)}\``,
        `Cause: ${escape(alert.cause)}`,
        `Checkpoint stays at ${at(alert.checkpoint)}; nothing after it is lost, the next successful run ships it.`,
      ]];
    case 'still-failing':
      return [':red_circle: Export still failing', [
        `Failing since ${alert.since}, ${plural(alert.failedRuns, 'failed run')}: \`${escape(alert.code)}\``,
        `Cause: ${escape(alert.cause)}`,
        `Checkpoint: ${at(alert.checkpoint)}`,
      ]];
    case 'recovered':
      return [':large_green_circle: Export recovered', [
        `Down for ${formatDuration(alert.downMs)} (since ${alert.since}, ${plural(alert.failedRuns, 'failed run')}).`,
        `Caught up ${plural(alert.caughtUp, 'log')} in ${plural(alert.pages, 'page')}; checkpoint ${at(alert.checkpoint)}.`,
      ]];
    case 'lagging':
      return [':hourglass_flowing_sand: Export lagging', [
        `The last run ended ${formatDuration(alert.lagSeconds * 1000)} behind (stopped by ${escape(alert.stoppedBy)}); the alert threshold is ${alert.thresholdMinutes} min.`,
      ]];
    case 'lag-recovered':
      return [':white_check_mark: Export caught up', [
        `Back under the lag threshold after ${formatDuration(alert.laggingMs)} (now ${formatDuration(alert.lagSeconds * 1000)} behind).`,
      ]];
    case 'stream-silent':
      return [':mute: Log stream silent', [
        `No log-stream delivery ${alert.lastDeliveryAt === null ? 'since the service started' : `since ${alert.lastDeliveryAt}`}, while the poller found ${plural(alert.newLogs, 'new log')} it had not delivered. Check the stream's status in the Auth0 dashboard (Monitoring → Streams): it may be paused or suspended.`,
      ]];
    case 'stream-resumed':
      return [':loud_sound: Log stream delivering again', [`After ${formatDuration(alert.silentMs)} of silence.`]];
    case 'stream-inactive':
      return [alert.status === 'paused' ? ':double_vertical_bar: Log stream paused' : ':no_entry: Log stream suspended', [
        `Auth0 reports the log stream ${escape(alert.stream)} as *${alert.status}*: it sends nothing until it is active again. Nothing is lost: the poller keeps exporting, minutes behind instead of seconds.`,
        alert.autoResume
          ? 'LOG_STREAM_AUTO_RESUME is on: the service sets it active again once Papertrail confirms deliveries again.'
          : 'Set it active in the Auth0 Dashboard (Monitoring → Streams) once Papertrail receives again, or set LOG_STREAM_AUTO_RESUME=true.',
      ]];
    case 'stream-active':
      return [':arrow_forward: Log stream active again', [
        `The log stream ${escape(alert.stream)} is active again after ${formatDuration(alert.inactiveMs)} ${alert.was}${alert.resumedByService ? '; this service resumed it (LOG_STREAM_AUTO_RESUME)' : ''}. Events Auth0 queued meanwhile are skipped where the poller already shipped them.`,
      ]];
    case 'run-summary':
      return [':white_check_mark: Export run', [
        `${plural(alert.exported, 'log')} exported (${alert.fetched} read, ${plural(alert.pages, 'page')}) in ${formatDuration(alert.durationMs)} by a ${escape(alert.trigger)} run; ${formatDuration(alert.lagSeconds * 1000)} behind; checkpoint ${at(alert.checkpoint)}.`,
      ]];
  }
}

export function slackPayload(alert: Alert, context: MessageContext): SlackPayload {
  const [headline, lines] = words(alert);
  const title = `${headline} · Auth0 logs to Papertrail · ${escape(context.tenant)}`;
  return {
    text: [`*${title}*`, ...lines].join('\n'),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${title}*` } },
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
    ],
  };
}
