// Writes webtask.json, the Extensions gallery manifest, from package.json,
// the settings registry and the log type table, so none of them can drift.
//   node build/manifest.mjs          write webtask.json
//   node build/manifest.mjs --check  exit 1 if webtask.json is not what this would write
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// Built by `tsc -p tsconfig.build.json`, which `npm run build` runs first.
const { SETTINGS } = require(join(root, 'dist', 'settings.js'));
const { allLogTypes, LOG_LEVEL_NAMES } = require(join(root, 'dist', 'auth0', 'log-types.js'));
const { PII_FIELD_NAMES } = require(join(root, 'dist', 'stages', 'personal-data.js'));

const capitalize = (s) => s[0].toUpperCase() + s.slice(1);

function secret(setting) {
  const entry = { description: setting.description };
  if (setting.required) entry.required = true;
  // The Extensions page masks a password field, as Auth0's own log exporters mark their tokens.
  if (setting.secret) entry.type = 'password';
  const value = setting.webtaskDefault ?? setting.default;
  if (value !== undefined) entry.default = value;
  if (setting.name === 'LOG_LEVEL') {
    Object.assign(entry, {
      type: 'select',
      allowMultiple: false,
      options: [{ value: '', text: 'All levels' }, ...[4, 3, 2, 1, 0].map((level) => ({ value: String(level), text: `${capitalize(LOG_LEVEL_NAMES[level])} and above` }))],
    });
  }
  if (setting.name === 'SLACK_SEND_SUCCESS') {
    // As the original offered it, so a migrating tenant's value still matches an option.
    Object.assign(entry, { type: 'select', allowMultiple: false, options: [{ value: 'false', text: 'No' }, { value: 'true', text: 'Yes' }] });
  }
  if (setting.name === 'MESSAGE_FORMAT') {
    Object.assign(entry, { type: 'select', allowMultiple: false, options: [{ value: 'json', text: 'The event as JSON' }, { value: 'summary', text: 'A readable line, then the JSON' }] });
  }
  if (setting.name === 'PII_METHOD') {
    Object.assign(entry, { type: 'select', allowMultiple: false, options: [{ value: 'mask', text: 'Mask (j***@e***.com)' }, { value: 'hash', text: 'Keyed hash (needs PII_HASH_KEY)' }] });
  }
  if (setting.name === 'PII_FIELDS') {
    Object.assign(entry, { type: 'select', allowMultiple: true, options: PII_FIELD_NAMES.map((name) => ({ value: name, text: name })) });
  }
  if (setting.name === 'LOG_TYPES') {
    Object.assign(entry, {
      type: 'select',
      allowMultiple: true,
      options: allLogTypes().map((t) => ({ value: t.code, text: `${t.name} (${t.code}, ${LOG_LEVEL_NAMES[t.level]})` })),
    });
  }
  return entry;
}

export function manifest() {
  return {
    title: 'Auth0 Logs to Papertrail',
    name: pkg.name,
    version: pkg.version,
    author: pkg.author,
    description: 'This extension exports all of your Auth0 logs to Papertrail over verified TLS, at least once, with nothing lost.',
    type: 'cron',
    category: 'log_export',
    repository: pkg.repository.url,
    keywords: ['auth0', 'extension', 'papertrail', 'logs'],
    schedule: '0 */5 * * * *',
    // Clicking the installed extension opens its dashboard (GET / for a browser).
    initialUrlPath: '/',
    // createClient: the gallery creates the application and injects AUTH0_CLIENT_ID and
    // AUTH0_CLIENT_SECRET, with read:logs only (no delete:clients: uninstalling leaves the
    // application, which the README says to delete by hand).
    auth0: { createClient: true, scopes: 'read:logs' },
    secrets: Object.fromEntries(SETTINGS.filter((s) => s.scope === 'all').map((s) => [s.name, secret(s)])),
  };
}

const text = `${JSON.stringify(manifest(), null, 2)}\n`;
const file = join(root, 'webtask.json');
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // missing counts as different
  }
  if (current !== text) {
    console.error('webtask.json is out of date: run `npm run build` and commit it.');
    process.exit(1);
  }
} else {
  writeFileSync(file, text);
}
