import type { LogFilter } from '../../src/config';
import { filterLogs, isExported } from '../../src/stages/filter-logs';

const f = (minLevel: LogFilter['minLevel'], types: string[] | null): LogFilter => ({ minLevel, types: types === null ? null : new Set(types) });
const log = (type: string) => ({ log_id: '1', type });

describe('the filter stage', () => {
  // type levels used below: s=1 (info), w=2 (warning), f=3 (error), limit_wc=4 (critical)
  it.each([
    // minLevel, types, type, exported
    [null, null, 's', true],
    [null, null, 'totally_new_type', true],
    [3, null, 'f', true],
    [3, null, 'limit_wc', true],
    [3, null, 'w', false],
    [3, null, 's', false],
    [0, null, 's', true],
    [null, ['s'], 's', true],
    [null, ['s'], 'f', false],
    [3, ['s'], 's', true], // union: the listed type OR the level
    [3, ['s'], 'f', true],
    [3, ['s'], 'w', false],
    [null, ['s'], 'totally_new_type', false], // only an explicit type list leaves unknown types out
    [4, null, 'totally_new_type', true], // unknown types are never dropped by a level threshold
    [3, ['brand_new'], 'brand_new', true],
  ] as const)('LOG_LEVEL=%p LOG_TYPES=%p: type %s exported=%p', (minLevel, types, type, exported) => {
    expect(isExported(log(type), f(minLevel, types === null ? null : [...types]))).toBe(exported);
  });

  it('exports a log without a type only when no filter is set or a level threshold applies', () => {
    expect(isExported({ log_id: '1' }, f(null, null))).toBe(true);
    expect(isExported({ log_id: '1' }, f(null, ['s']))).toBe(false);
    expect(isExported({ log_id: '1' }, f(2, null))).toBe(true);
  });

  it('keeps the page order', () => {
    const page = ['s', 'f', 'w', 'f', 'limit_wc'].map((type, i) => ({ log_id: String(i), type }));
    expect(filterLogs(page, f(3, null)).map((l) => l.log_id)).toEqual(['1', '3', '4']);
  });
});
