/**
 * `auth0-logs-to-papertrail stream setup --url https://<public host>/log-stream [--name <name>]`
 * and `stream status`: the tenant's side of the log stream, through the
 * Management API. stdout carries one JSON document; stderr the human lines.
 * Exit codes: 0 done, 1 Auth0 failed (nothing changed that was not reported),
 * 2 settings, endpoint or a missing scope (nothing was changed).
 */
import { loadConfig, secretValues, type Environment } from './config';
import { ManagementApiClient } from './auth0/management-api-client';
import { createHttpsTransport } from './auth0/http';
import { LogStreamsApi, MissingScopeError } from './auth0/log-streams-api';
import { systemClock } from './clock';
import { ConfigError, isConfigError, toErrorRecord, type SettingProblem } from './errors';
import { loadLogStreamSettings } from './log-stream/settings';
import { DEFAULT_STREAM_NAME, describeStream, endpointProblem, findOurStream, setupStream } from './log-stream/stream-setup';
import { createRedactor } from './runtime/redact';

/** The whole command, requests and retries included. */
const COMMAND_BUDGET_MS = 60_000;

export interface StreamOptions {
  url?: string;
  name?: string;
}

export async function streamCommand(subcommand: string | undefined, options: StreamOptions, env: Environment): Promise<number> {
  if (subcommand !== 'setup' && subcommand !== 'status') {
    process.stderr.write(`${subcommand === undefined ? 'No stream command given' : `Unknown stream command "${subcommand}"`}: use "stream setup --url https://<public host>/log-stream" or "stream status".\n`);
    return 2;
  }
  const problems: SettingProblem[] = [];
  // The endpoint first: an unusable one is refused before anything else is read or requested.
  if (subcommand === 'setup') {
    if (options.url === undefined) problems.push({ setting: '--url', problem: 'is missing.', fix: 'give the public https address of this service\'s log-stream endpoint, e.g. --url https://logs.example.com/log-stream.' });
    else {
      const problem = endpointProblem(options.url);
      if (problem !== null) problems.push({ setting: '--url', problem, fix: 'expose the service (or a proxy in front of it) under a public host name with a publicly trusted certificate.' });
    }
  }
  let config;
  try {
    config = loadConfig(env, 'standalone');
  } catch (error) {
    if (!isConfigError(error)) throw error;
    problems.push(...error.problems);
  }
  const stream = loadLogStreamSettings(env, problems);
  if (stream.token === null) problems.push({ setting: 'LOG_STREAM_TOKEN', problem: 'is not set; the stream authenticates to this service with it.', fix: 'set LOG_STREAM_TOKEN to a long random value (e.g. the output of "openssl rand -hex 24") here and for serve.' });
  if (problems.length > 0 || config === undefined || stream.token === null) {
    const error = new ConfigError(problems);
    process.stderr.write(`${error.message}\n`);
    process.stdout.write(`${JSON.stringify({ status: 'failed', error: toErrorRecord(error) }, null, 2)}\n`);
    return 2;
  }
  const redact = createRedactor([...secretValues(config), stream.token]);
  const transport = createHttpsTransport();
  const client = new ManagementApiClient({ domain: config.auth0.domain, clientId: config.auth0.clientId, clientSecret: config.auth0.clientSecret, transport, clock: systemClock });
  const deadline = systemClock.now() + COMMAND_BUDGET_MS;
  const api = new LogStreamsApi(client, () => ({ deadline }));
  const name = options.name ?? DEFAULT_STREAM_NAME;
  try {
    if (subcommand === 'setup') {
      const result = await setupStream(api, { url: options.url as string, token: stream.token, name, id: stream.id });
      const said = result.action === 'unchanged' ? 'is already set up as given; nothing changed' : result.action === 'created' ? 'was created' : `was updated (${result.changed.join(', ')})`;
      process.stderr.write(`The log stream "${result.stream.name}" (${result.stream.id}) ${said}; its status is ${result.stream.status}.\n`);
      if (stream.id === null) process.stderr.write(`Set LOG_STREAM_ID=${result.stream.id} for serve to watch this stream without looking it up.\n`);
      process.stdout.write(`${JSON.stringify(redact({ status: result.action, stream: describeStream(result.stream) }), null, 2)}\n`);
      return 0;
    }
    const found = await findOurStream(api, { id: stream.id, name, token: stream.token });
    if (found === null) {
      process.stderr.write(`No log stream named "${name}" or sending LOG_STREAM_TOKEN in this tenant; create it with "stream setup --url https://<public host>/log-stream".\n`);
      process.stdout.write(`${JSON.stringify({ status: 'not-found' }, null, 2)}\n`);
      return 1;
    }
    process.stderr.write(`The log stream "${found.name}" (${found.id}) is ${found.status}.\n`);
    process.stdout.write(`${JSON.stringify(redact({ status: 'found', stream: describeStream(found) }), null, 2)}\n`);
    return 0;
  } catch (error) {
    const record = redact(toErrorRecord(error));
    process.stderr.write(`${record.message}\n`);
    process.stdout.write(`${JSON.stringify({ status: 'failed', error: record }, null, 2)}\n`);
    // A missing scope is a setting to change, like a bad value: nothing was changed.
    return error instanceof MissingScopeError ? 2 : 1;
  } finally {
    transport.close();
  }
}
