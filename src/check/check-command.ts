/**
 * `auth0-logs-to-papertrail check`: the settings first (all problems at once,
 * each with its fix), then the checks of run-checks.ts, printed as a
 * checklist. Only this command loads the store drivers and, with --serve, the
 * service's module; the HTTP app imports run-checks.ts alone.
 */
import { loadConfig, type Config, type Environment } from '../config';
import { ConfigError, isConfigError, type SettingProblem } from '../errors';
import { createRedactor } from '../runtime/redact';
import { SETTINGS as SETTING_LIST } from '../settings';
import { failed, printChecklist, skipped, type Checklist } from './checklist';
import { runChecks, SETTINGS_ITEM, type CheckOptions } from './run-checks';
import type { StoreUnderCheck } from './store-check';

/** The CLI command: 0 when every check passed, 1 when one failed, 2 when the settings are invalid (nothing else checked). */
export async function check(env: Environment, flags: readonly string[]): Promise<number> {
  const unknown = flags.filter((flag) => flag !== '--send-test' && flag !== '--serve');
  if (unknown.length > 0) {
    process.stderr.write(`check: unknown option ${unknown.join(' ')} (it takes --send-test and --serve).\n`);
    return 2;
  }
  const problems: SettingProblem[] = [];
  let config: Config | undefined;
  let service: CheckOptions['serve'];
  try {
    config = loadConfig(env, 'standalone');
  } catch (error) {
    if (!isConfigError(error)) throw error;
    problems.push(...error.problems);
  }
  if (flags.includes('--serve')) {
    // Only `check --serve` loads the service's module (and its HTTP stack).
    const { loadServiceSettings } = await import('../serve');
    try {
      const settings = loadServiceSettings(env);
      service = { host: settings.host, port: settings.port };
    } catch (error) {
      if (!isConfigError(error)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0 || config === undefined) {
    const invalid = new ConfigError(problems);
    const list: Checklist = {
      ok: false,
      items: [
        failed(SETTINGS_ITEM, invalid.message.replace(/\n/g, '\n       '), 'set each setting named above as its own fix says (in .env or the environment), then run check again.'),
        skipped('Auth0, Papertrail, state store', 'not checked: the settings are invalid'),
      ],
    };
    // No Config to name the secrets: mask whatever the secret settings hold.
    const redact = createRedactor(SETTING_LIST.filter((setting) => setting.secret === true).map((setting) => env[setting.name]?.trim()));
    process.stdout.write(redact(printChecklist(list)));
    return 2;
  }
  const { createStandaloneStore } = await import('../storage/standalone-store');
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  const openStore = (): StoreUnderCheck => {
    const store = createStandaloneStore(config, quiet);
    return { store, description: store.description, close: () => store.close() };
  };
  const list = await runChecks(config, { sendTest: flags.includes('--send-test'), ...(service ? { serve: service } : {}), openStore });
  process.stdout.write(printChecklist(list));
  return list.ok ? 0 : 1;
}
