/**
 * One list of settings, four places that must agree: the registry
 * (src/settings.ts), the parser (src/config.ts, src/serve.ts), the webtask
 * manifest (webtask.json) and the README's configuration table.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS, loadConfig } from '../../src/config';
import { loadServiceSettings } from '../../src/serve';
import { SETTINGS } from '../../src/settings';

const root = join(__dirname, '..', '..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');
const minimal = { AUTH0_DOMAIN: 't.auth0.com', AUTH0_CLIENT_ID: 'id', AUTH0_CLIENT_SECRET: 'secret', PAPERTRAIL_HOST: 'logs.example.com', PAPERTRAIL_PORT: '1' };

function readmeTable(): Map<string, { default: string; appliesTo: string }> {
  const readme = read('README.md');
  const start = readme.indexOf('| Setting | Default | Applies to | Meaning |');
  expect(start).toBeGreaterThan(0);
  const rows = new Map<string, { default: string; appliesTo: string }>();
  for (const line of readme.slice(start).split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const [, name, def, applies] = line.split('|').map((c) => c.trim());
    rows.set((name ?? '').replace(/`/g, ''), { default: def ?? '', appliesTo: applies ?? '' });
  }
  return rows;
}

describe('settings', () => {
  it('are the same set in the registry and in the README table, with the same defaults', () => {
    const table = readmeTable();
    expect([...table.keys()]).toEqual(SETTINGS.map((s) => s.name));
    for (const setting of SETTINGS) {
      const row = table.get(setting.name);
      if (setting.default !== undefined) expect(row?.default).toContain(`\`${setting.default}\``);
      if (setting.webtaskDefault !== undefined) expect(row?.default).toContain(`webtask: \`${setting.webtaskDefault}\``);
      if (setting.required) expect(row?.default).toContain('required');
      if (setting.scope === 'service') expect(row?.appliesTo).toBe('service');
      if (setting.scope === 'standalone') expect(row?.appliesTo).toBe('standalone');
    }
  });

  it('are the ones the parsers read, and nothing else', () => {
    const read = (file: string) => [...readFileSync(join(root, file), 'utf8').matchAll(/(?:get|required)\(\s*'([A-Z0-9_]+)'|env\['([A-Z0-9_]+)'\]/g)].map((m) => m[1] ?? m[2]);
    const parsed = new Set([...read('src/config.ts'), ...read('src/serve.ts'), ...read('src/log-stream/settings.ts')]);
    expect([...parsed].sort()).toEqual(SETTINGS.map((s) => s.name).sort());
  });

  it('have the registry\'s defaults in the parsers', () => {
    const byName = new Map(SETTINGS.map((s) => [s.name, s]));
    const config = loadConfig(minimal);
    expect(String(config.batchSize)).toBe(byName.get('BATCH_SIZE')?.default);
    expect(config.papertrail.system).toBe(byName.get('PAPERTRAIL_SYSTEM')?.default);
    expect(config.papertrail.program).toBe(byName.get('PAPERTRAIL_PROGRAM')?.default);
    expect(config.storageFile).toBe(byName.get('STORAGE_FILE')?.default);
    expect(String(config.maxRunMs / 1000)).toBe(byName.get('MAX_RUN_SECONDS')?.default);
    expect(String(loadConfig(minimal, 'webtask').maxRunMs / 1000)).toBe(byName.get('MAX_RUN_SECONDS')?.webtaskDefault);
    expect(String(DEFAULTS.MAX_RUN_SECONDS_WEBTASK)).toBe(byName.get('MAX_RUN_SECONDS')?.webtaskDefault);
    const service = loadServiceSettings({});
    expect(service.schedule).toBe(byName.get('SCHEDULE')?.default);
    expect(String(service.pollIntervalMs / 1000)).toBe(byName.get('POLL_INTERVAL_SECONDS')?.default);
    expect(service.host).toBe(byName.get('HOST')?.default);
    expect(String(service.port)).toBe(byName.get('PORT')?.default);
    expect(String(service.logStream.streamOnly)).toBe(byName.get('LOG_STREAM_ONLY')?.default);
    expect(String(service.logStream.maxSilenceMs / 1000)).toBe(byName.get('LOG_STREAM_MAX_SILENCE_SECONDS')?.default);
  });

  it('are the manifest\'s secrets, with the same defaults, and webtask.json is what the build generates', () => {
    const manifest = JSON.parse(read('webtask.json')) as { version: string; type: string; auth0: { scopes: string; createClient?: boolean }; secrets: Record<string, { default?: string; required?: boolean; type?: string; options?: { value: string }[] }> };
    const shared = SETTINGS.filter((s) => s.scope === 'all');
    expect(Object.keys(manifest.secrets)).toEqual(shared.map((s) => s.name));
    for (const s of shared) {
      expect(manifest.secrets[s.name]?.default).toBe(s.webtaskDefault ?? s.default);
      expect(manifest.secrets[s.name]?.required ?? false).toBe(s.required);
      // A credential is a masked field on the Extensions page; nothing else is.
      expect(manifest.secrets[s.name]?.type === 'password').toBe(s.secret === true);
    }
    expect(shared.filter((s) => s.secret).map((s) => s.name)).toEqual(['PAPERTRAIL_TOKEN', 'PII_HASH_KEY', 'ADMIN_TOKEN', 'SLACK_INCOMING_WEBHOOK_URL']);
    // The gallery creates the application and injects its id and secret.
    expect(manifest.auth0.createClient).toBe(true);
    expect(manifest.version).toBe((JSON.parse(read('package.json')) as { version: string }).version);
    expect(manifest.type).toBe('cron');
    expect(manifest.auth0.scopes.split(' ')).toContain('read:logs');
    expect(manifest.secrets['LOG_TYPES']?.type).toBe('select');
    expect(manifest.secrets['LOG_LEVEL']?.type).toBe('select');
    // Needs dist/ (jest's global setup builds it).
    expect(() => execFileSync(process.execPath, [join(root, 'build', 'manifest.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('offer every LOG_TYPES option the parser accepts without a warning, and only those', () => {
    const manifest = JSON.parse(read('webtask.json')) as { secrets: Record<string, { options?: { value: string }[] }> };
    const codes = (manifest.secrets['LOG_TYPES']?.options ?? []).map((o) => o.value);
    expect(codes.length).toBe(185);
    const config = loadConfig({ ...minimal, LOG_TYPES: codes.join(',') });
    expect(config.warnings).toEqual([]);
    expect(config.filter.types?.size).toBe(185);
  });
});
