/**
 * Every setting, once: name, default, where it applies and what it means.
 * The webtask manifest's secrets are generated from this list, and a test
 * holds the parser and the README's configuration table to it.
 */
export type SettingScope =
  /** Set by the user everywhere (a webtask secret in the extension). */
  | 'all'
  /** Injected by the extension gallery; set by the user when standalone. */
  | 'auth0'
  /** Standalone only (CLI and service). */
  | 'standalone'
  /** The service only. */
  | 'service';

export interface SettingInfo {
  name: string;
  scope: SettingScope;
  required: boolean;
  /** The default as text, as a manifest holds it; undefined when there is none. */
  default?: string;
  /** The default under webtask when it differs. */
  webtaskDefault?: string;
  /** A credential: never printed, reported or stored (see `secretValues` in config.ts). */
  secret?: boolean;
  description: string;
}

export const SETTINGS: readonly SettingInfo[] = [
  { name: 'AUTH0_DOMAIN', scope: 'auth0', required: true, description: 'Your tenant domain, e.g. your-tenant.us.auth0.com (host, optionally host:port).' },
  { name: 'AUTH0_CLIENT_ID', scope: 'auth0', required: true, description: 'Client ID of a machine-to-machine application granted read:logs on the Management API.' },
  { name: 'AUTH0_CLIENT_SECRET', scope: 'auth0', required: true, secret: true, description: "That application's client secret." },
  { name: 'BATCH_SIZE', scope: 'all', required: false, default: '100', description: 'Logs read per request to Auth0, 1 to 100. A run reads as many pages as it needs to catch up.' },
  { name: 'PAGES_PER_SHIPMENT', scope: 'all', required: false, default: '10', description: 'The most pages one shipment (one connection, one confirmation, one state write) may gather, 1 to 10. While a backlog drains and the receiver is still confirming the previous shipment, the pages fetched meanwhile go together in the next; caught up, each page ships at once. A crash of the exporter re-ships at most one shipment: up to this many pages (this times BATCH_SIZE logs, 1,000 by default); a receiver that goes away can add up to two shipments in doubt, shipped again too. 1 ships every page alone.' },
  { name: 'PAPERTRAIL_HOST', scope: 'all', required: true, description: 'The destination host: syslog.collector.<region>.cloud.solarwinds.com for a token destination, or the host shown under "Your systems & apps will log to", e.g. logs5.papertrailapp.com.' },
  { name: 'PAPERTRAIL_PORT', scope: 'all', required: true, description: 'The destination port: 6514 for a token destination, or the port shown next to a logsN.papertrailapp.com host.' },
  { name: 'PAPERTRAIL_TOKEN', scope: 'all', required: false, secret: true, description: 'The ingestion token of a token destination (syslog.collector.<region>.cloud.solarwinds.com:6514); sent in every message as the structured-data element [<token>@41058]. Empty for a legacy logsN.papertrailapp.com destination.' },
  { name: 'PAPERTRAIL_SYSTEM', scope: 'all', required: false, default: 'auth0-logs', description: 'The system name the events appear under in Papertrail (syslog HOSTNAME): no spaces, at most 120 characters.' },
  { name: 'PAPERTRAIL_PROGRAM', scope: 'all', required: false, default: 'auth0', description: 'The program name the events appear under in Papertrail (syslog APP-NAME): no spaces, at most 48 characters.' },
  { name: 'LOG_LEVEL', scope: 'all', required: false, description: 'Export event types at or above this level: 0 debug, 1 info, 2 warning, 3 error, 4 critical. Combined with LOG_TYPES by OR. Empty exports every level.' },
  { name: 'LOG_TYPES', scope: 'all', required: false, description: 'Comma-separated event type codes to export (e.g. f,fp,fu). Combined with LOG_LEVEL by OR. Empty exports every type.' },
  { name: 'MESSAGE_FORMAT', scope: 'all', required: false, default: 'json', description: 'json: each message is the event as JSON. summary: one readable line first (type, outcome, user, IP, client, description), then the same JSON, so Papertrail\'s viewer reads easily and its search still finds every field.' },
  { name: 'OMIT_FIELDS', scope: 'all', required: false, description: 'Comma-separated dotted paths dropped from every event before it is sent, e.g. details.request.auth,location_info (a path through a list applies to each element). Never log_id, type or date.' },
  { name: 'PII_FIELDS', scope: 'all', required: false, description: 'Personal data to mask or hash before anything leaves the process, on the poller and the log stream alike: any of email, username, first_name, last_name, phone, address (Auth0\'s names), ip, user_agent. Empty sends them as Auth0 gives them.' },
  { name: 'PII_METHOD', scope: 'all', required: false, default: 'mask', description: 'mask keeps the shape and nothing else (jane@example.com → j***@e***.com). hash gives a stable pseudonym per value (HMAC-SHA-256 keyed with PII_HASH_KEY, 16 hex digits), so one user\'s events still group together.' },
  { name: 'PII_HASH_KEY', scope: 'all', required: false, secret: true, description: 'The secret key of PII_METHOD=hash, at least 16 characters (e.g. openssl rand -hex 24). Keep it: a new key gives every user a new pseudonym.' },
  { name: 'START_FROM', scope: 'all', required: false, description: 'A log id to (re)start the export after. Applied once per distinct value; empty continues from the checkpoint.' },
  { name: 'MAX_RUN_SECONDS', scope: 'all', required: false, default: '900', webtaskDefault: '20', description: 'Time budget of one run in seconds (5 to 86400). A run that runs out of time stops cleanly; the next one continues.' },
  { name: 'ADMIN_TOKEN', scope: 'all', required: false, secret: true, description: 'Bearer token for manual runs, checkpoint resets, pause/resume and the full run history. At least 16 characters.' },
  { name: 'SLACK_INCOMING_WEBHOOK_URL', scope: 'all', required: false, secret: true, description: 'A Slack (or Slack-compatible, e.g. Mattermost) incoming webhook URL, https only, for alerts: failing, still failing (hourly), recovered, lagging, and a silent log stream. Kept secret.' },
  { name: 'SLACK_SEND_SUCCESS', scope: 'all', required: false, default: 'false', description: 'true: also post a short summary after every run that exported something.' },
  { name: 'LAG_ALERT_MINUTES', scope: 'all', required: false, default: '60', description: 'Alert when a run ends this many minutes or more behind the newest log it could read (1 to 10080), and again when it is back under.' },
  { name: 'STORAGE_FILE', scope: 'standalone', required: false, default: './data/state.db', description: 'The SQLite database in which the standalone CLI and service keep checkpoint, run lease, run history and shipped ids. A JSON state file of an earlier version found here (or at ./data/state.json when unset) is migrated into it once and kept as <file>.migrated.' },
  { name: 'STATE_URL', scope: 'standalone', required: false, secret: true, description: 'A PostgreSQL URL (postgres://user:password@host:5432/db) to keep the state in instead of STORAGE_FILE, shared by every replica and run pointed at it. Secret: the password is never shown.' },
  { name: 'LEASE_SECONDS', scope: 'standalone', required: false, default: '30', description: 'How long the run lease lasts without renewal, 2 to 3600 seconds. A run renews it every third of that; a run that cannot renew it in time, or finds another run took it, stops at once with LEASE_LOST and writes nothing more.' },
  { name: 'SCHEDULE', scope: 'service', required: false, default: '*/5 * * * *', description: 'When the service runs an export: a cron expression of 5 fields, or 6 with seconds first; or `continuous` to follow the log (follow mode).' },
  { name: 'POLL_INTERVAL_SECONDS', scope: 'service', required: false, default: '5', description: 'Follow mode: seconds between polls once caught up (1 to 3600).' },
  { name: 'HOST', scope: 'service', required: false, default: '127.0.0.1', description: 'Address the service listens on.' },
  { name: 'PORT', scope: 'service', required: false, default: '8080', description: 'Port the service listens on (0 picks a free one).' },
  { name: 'LOG_STREAM_TOKEN', scope: 'service', required: false, secret: true, description: 'Turns on POST /log-stream for an Auth0 Custom Webhook log stream; the stream\'s Authorization Token must be this value or "Bearer " and it. At least 16 characters.' },
  { name: 'LOG_STREAM_ONLY', scope: 'service', required: false, default: 'false', description: 'true turns the poller off and exports from the log stream alone, giving up the guarantee that the poller fills every gap in the stream.' },
  { name: 'LOG_STREAM_MAX_SILENCE_SECONDS', scope: 'service', required: false, default: '900', description: 'A log stream silent for longer than this while the poller finds logs it did not deliver is reported failing in /health.' },
  { name: 'LOG_STREAM_ID', scope: 'service', required: false, description: 'The id of the log stream in the tenant (printed by `stream setup`). Empty: the stream named auth0-logs-to-papertrail, or the one sending LOG_STREAM_TOKEN.' },
  { name: 'LOG_STREAM_STATUS_SECONDS', scope: 'service', required: false, default: '300', description: "How often the service reads the log stream's status from Auth0 (needs read:log_streams), 1 to 86400 seconds; 0 never reads it. Shown on /health, the dashboard and /metrics; Slack alerts when the stream leaves active and when it is active again." },
  { name: 'LOG_STREAM_AUTO_RESUME', scope: 'service', required: false, default: 'false', description: 'true: set a paused or suspended log stream active again once Papertrail confirms deliveries again (needs update:log_streams); at most once per backoff period, recorded on /health and in the log.' },
  { name: 'TLS_CERT_FILE', scope: 'service', required: false, description: 'PEM certificate chain: with TLS_KEY_FILE, the service serves HTTPS itself (Auth0 streams only to publicly trusted certificates).' },
  { name: 'TLS_KEY_FILE', scope: 'service', required: false, description: 'PEM private key of TLS_CERT_FILE.' },
  { name: 'METRICS_TOKEN', scope: 'service', required: false, secret: true, description: 'Bearer token that may read GET /metrics (and nothing else), for Prometheus. At least 16 characters. Without it, /metrics needs ADMIN_TOKEN when that is set, and is open when neither is.' },
];
