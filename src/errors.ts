/**
 * The error hierarchy. Every failure the program reports is one of these, so
 * the CLI, the HTTP app and the run history can turn it into an exit code,
 * a status and a structured record in one place (see `toErrorRecord`).
 */

export interface ErrorRecord {
  name: string;
  code: string;
  message: string;
  retriable: boolean;
  details?: Record<string, unknown>;
}

export abstract class ShipperError extends Error {
  abstract readonly code: string;
  /** Whether a later run can be expected to succeed without a change of settings. */
  readonly retriable: boolean = true;
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details;
  }
}

export interface SettingProblem {
  setting: string;
  problem: string;
  fix: string;
}

/** Bad settings: listed all at once, before anything is fetched. */
export class ConfigError extends ShipperError {
  readonly code = 'CONFIG_INVALID';
  override readonly retriable = false;

  constructor(readonly problems: readonly SettingProblem[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.setting}: ${p.problem} To fix: ${p.fix}`).join('\n'),
      { details: { problems } },
    );
  }
}

/** Auth0 answered with an error, or with something that is not a page of logs. */
export class Auth0ApiError extends ShipperError {
  readonly code: string;

  constructor(
    message: string,
    options: { status?: number; code?: string; retriable?: boolean; cause?: unknown; endpoint?: string } = {},
  ) {
    super(message, { cause: options.cause, details: { status: options.status, endpoint: options.endpoint } });
    this.code = options.code ?? 'AUTH0_API_ERROR';
    this.status = options.status;
    Object.defineProperty(this, 'retriable', { value: options.retriable ?? true });
  }

  readonly status: number | undefined;
}

/** The Papertrail side failed: connect, TLS verification, write, or close. */
export class SinkError extends ShipperError {
  readonly code: string;
  /**
   * SINK_RECEIVER_GONE only: how many of the last confirmed shipments the receiver may have read without
   * keeping (1, the last one, unless several were confirmed while it was going away).
   */
  readonly inDoubt: number;

  constructor(message: string, options: { code?: string; retriable?: boolean; cause?: unknown; host?: string; port?: number; inDoubt?: number } = {}) {
    super(message, { cause: options.cause, details: { host: options.host, port: options.port } });
    this.code = options.code ?? 'SINK_ERROR';
    this.inDoubt = Math.max(1, options.inDoubt ?? 1);
    Object.defineProperty(this, 'retriable', { value: options.retriable ?? true });
  }
}

/** Reading or writing the state document failed. */
export class StorageError extends ShipperError {
  readonly code = 'STORAGE_ERROR';
}

/** Another writer changed the state document between our read and our write. */
export class StateConflictError extends ShipperError {
  readonly code = 'STATE_CONFLICT';
}

/** Another run holds the lease: this run did nothing, by design. */
export class RunInProgressError extends ShipperError {
  readonly code = 'RUN_IN_PROGRESS';
}

/**
 * Another run took the lease after this one (this run was frozen, cut off
 * from the database, or its lease ran out unrenewed): every write of this
 * run is refused from then on, so it stops at once and moves nothing.
 */
export class LeaseLostError extends ShipperError {
  readonly code = 'LEASE_LOST';
}

export function isShipperError(error: unknown): error is ShipperError {
  return error instanceof ShipperError;
}

export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof ConfigError;
}

/** A JSON-safe description of any thrown value; never includes a stack. */
export function toErrorRecord(error: unknown): ErrorRecord {
  if (isShipperError(error)) {
    const record: ErrorRecord = { name: error.name, code: error.code, message: error.message, retriable: error.retriable };
    const details = error.details && Object.fromEntries(Object.entries(error.details).filter(([, v]) => v !== undefined));
    if (details && Object.keys(details).length > 0) record.details = details;
    return record;
  }
  if (error instanceof Error) {
    return { name: error.name, code: 'UNEXPECTED', message: error.message, retriable: true };
  }
  return { name: 'Error', code: 'UNEXPECTED', message: String(error), retriable: true };
}

/**
 * Waiting for Auth0's rate limit (or anything else) would pass the run's
 * deadline. Not a failure: progress is saved and the next run continues.
 */
export class OutOfTimeError extends ShipperError {
  readonly code: string;

  constructor(message: string, options: { code?: string } = {}) {
    super(message);
    this.code = options.code ?? 'RATE_LIMITED';
  }
}

/** A log-stream request body that is not log records in any of Auth0's formats: answered 400, nothing shipped. */
export class StreamBodyError extends ShipperError {
  readonly code = 'STREAM_BAD_BODY';
  override readonly retriable = false;
}
