/**
 * What leaves the tenant, as an administrator's GET /runs reports it and the
 * dashboard shows it: MESSAGE_FORMAT, OMIT_FIELDS and which personal data is
 * masked or hashed. Never PII_HASH_KEY, nor whether one is set beyond what
 * `method: "hash"` implies (config refuses hash without a key).
 */
import type { Config } from '../config';

export interface ExportSettings {
  messageFormat: 'json' | 'summary';
  omitFields: string[];
  personalData: { fields: string[]; method: 'mask' | 'hash' } | null;
}

export function exportSettingsOf(config: Pick<Config, 'papertrail'>): ExportSettings {
  const message = config.papertrail.message;
  const pii = message?.pii ?? null;
  return {
    messageFormat: message?.format ?? 'json',
    omitFields: (message?.omit ?? []).map((path) => path.join('.')),
    personalData: pii === null ? null : { fields: [...pii.fields], method: pii.method },
  };
}
