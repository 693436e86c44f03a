import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOG_LEVEL_NAMES, LOG_TYPES, allLogTypes, lookupLogType, type LogLevel } from '../../src/auth0/log-types';

interface FixtureCode {
  code: string;
  /** The original extension's level, or null where it did not know the code. */
  extToolsLevel: LogLevel | null;
}

interface Fixture {
  table2a: FixtureCode[];
  table2b: FixtureCode[];
}

const FIXTURE_PATH = path.join(__dirname, '..', 'fixtures', 'auth0-log-type-codes.json');

function isLevel(value: unknown): value is LogLevel {
  return value === 0 || value === 1 || value === 2 || value === 3 || value === 4;
}

function parseFixtureCodes(value: unknown, what: string): FixtureCode[] {
  if (!Array.isArray(value)) throw new Error(`fixture: ${what} is not an array`);
  return value.map((item: unknown, index) => {
    const entry = item as { code?: unknown; extToolsLevel?: unknown } | null;
    if (entry === null || typeof entry.code !== 'string' || (entry.extToolsLevel !== null && !isLevel(entry.extToolsLevel))) {
      throw new Error(`fixture: ${what}[${index}] is malformed`);
    }
    return { code: entry.code, extToolsLevel: entry.extToolsLevel };
  });
}

function loadFixture(): Fixture {
  const raw = JSON.parse(fs.readFileSync(FIXTURE_PATH, 'utf8')) as { table2a?: unknown; table2b?: unknown };
  return { table2a: parseFixtureCodes(raw.table2a, 'table2a'), table2b: parseFixtureCodes(raw.table2b, 'table2b') };
}

const fixture = loadFixture();
const fixtureCodes = [...fixture.table2a, ...fixture.table2b];
const originalLevels = new Map<string, LogLevel>();
for (const { code, extToolsLevel } of fixtureCodes) {
  if (extToolsLevel !== null) originalLevels.set(code, extToolsLevel);
}
const newCodes = fixtureCodes.filter(({ extToolsLevel }) => extToolsLevel === null).map(({ code }) => code);

function levelOf(code: string): LogLevel | undefined {
  return lookupLogType(code)?.level;
}

describe('the log type table', () => {
  it('holds exactly the documented and the legacy codes of the fixture', () => {
    expect(fixture.table2a).toHaveLength(165);
    expect(fixture.table2b).toHaveLength(20);
    const expected = fixtureCodes.map(({ code }) => code).sort();
    expect(allLogTypes().map(({ code }) => code)).toEqual(expected);
    for (const code of expected) expect(lookupLogType(code)?.code).toBe(code);
  });

  it("keeps the original extension's level for each of the 98 codes it knew", () => {
    expect(originalLevels.size).toBe(98);
    const differing = [...originalLevels]
      .filter(([code, level]) => levelOf(code) !== level)
      .map(([code, level]) => `${code}: original ${level}, table ${String(levelOf(code))}`);
    expect(differing).toEqual([]);
  });

  it('gives every entry a level from 0 to 4, a non-empty name and description, and its own code as key', () => {
    for (const info of allLogTypes()) {
      expect(isLevel(info.level)).toBe(true);
      expect(LOG_LEVEL_NAMES[info.level]).toBeDefined();
      expect(info.name.trim()).not.toBe('');
      expect(info.description.trim()).not.toBe('');
      expect(info.code).toMatch(/^[a-z_]+$/);
      expect(LOG_TYPES[info.code]).toBe(info);
      if ('category' in info) expect(info.category).toMatch(/^[a-z]+(-[a-z]+)*$/);
    }
  });

  it('lists each code once, sorted by code', () => {
    const codes = allLogTypes().map(({ code }) => code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes).toEqual([...codes].sort());
    expect(Object.keys(LOG_TYPES)).toHaveLength(codes.length);
  });

  it('names the five levels', () => {
    expect(LOG_LEVEL_NAMES).toEqual({ 0: 'debug', 1: 'info', 2: 'warning', 3: 'error', 4: 'critical' });
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(LOG_TYPES)).toBe(true);
    expect(Object.isFrozen(LOG_LEVEL_NAMES)).toBe(true);
    expect(Object.isFrozen(allLogTypes())).toBe(true);
    for (const info of allLogTypes()) expect(Object.isFrozen(info)).toBe(true);
  });
});

describe('lookupLogType', () => {
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'])(
    'does not resolve the inherited Object name %p',
    (name) => {
      expect(lookupLogType(name)).toBeUndefined();
      expect(name in LOG_TYPES).toBe(false);
    },
  );

  it.each(['not_a_real_code', '', 'S', ' s', 's ', 'F'])('returns undefined for the unknown code %p', (code) => {
    expect(lookupLogType(code)).toBeUndefined();
  });

  it('returns undefined rather than throwing when a log carries a non-string type', () => {
    for (const value of [undefined, null, 42, {}, ['s']]) {
      expect(lookupLogType(value as unknown as string)).toBeUndefined();
    }
  });

  it('finds a known code', () => {
    expect(lookupLogType('fp')).toEqual({
      code: 'fp',
      name: 'Failed Login (Incorrect Password)',
      description: expect.any(String),
      level: 3,
      category: 'auth-login-fail',
    });
  });
});

describe('levels of codes the original extension did not know', () => {
  it.each<[string, LogLevel]>([
    ['pla', 1],
    ['acls_summary', 1],
    ['mgmt_api_read', 1],
    ['api_limit_warning', 2],
    ['wn', 2],
    ['fdeleacft', 3],
    ['actions_execution_failed', 3],
    ['limit_sul', 4],
  ])('puts %s at level %i', (code, level) => {
    expect(levelOf(code)).toBe(level);
  });

  it('treats a new code like the closest code the original already levelled', () => {
    expect(levelOf('reset_pwd_leak')).toBe(levelOf('pwd_leak'));
    expect(levelOf('signup_pwd_leak')).toBe(levelOf('pwd_leak'));
    expect(levelOf('fdecc')).toBe(levelOf('gd_auth_rejected'));
    expect(levelOf('limit_sul')).toBe(levelOf('limit_wc'));
    expect(levelOf('limit_phone')).toBe(levelOf('gd_otp_rate_limit_exceed'));
    expect(levelOf('wum')).toBe(levelOf('w'));
    expect(levelOf('acul_sdk_notice')).toBe(levelOf('depnote'));
  });

  it('puts every new failure at error', () => {
    const failures = newCodes.filter((code) => {
      const info = lookupLogType(code);
      return (
        /_(failed|failure|error)$/.test(code) ||
        /\b(failed|failure|error)\b/i.test(info?.name ?? '') ||
        (info?.category?.endsWith('-fail') ?? false)
      );
    });
    expect(failures.length).toBeGreaterThan(30);
    expect(failures.filter((code) => levelOf(code) !== 3)).toEqual([]);
  });

  it('puts every new success at info', () => {
    const successes = newCodes.filter((code) => {
      const info = lookupLogType(code);
      return /^success/i.test(info?.name ?? '') || /_(succeeded|success)$/.test(code);
    });
    expect(successes.length).toBeGreaterThan(20);
    expect(successes.filter((code) => levelOf(code) !== 1)).toEqual([]);
  });

  it('makes only Attack Protection blocks critical', () => {
    expect(newCodes.filter((code) => levelOf(code) === 4)).toEqual(['limit_sul']);
  });

  it('assigns no code the debug level, as the original did not', () => {
    expect(allLogTypes().filter(({ level }) => level === 0)).toEqual([]);
  });
});
