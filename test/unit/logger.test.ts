import { createLogger, type ProgressLine } from '../../src/runtime/logger';
import { createRedactor } from '../../src/runtime/redact';

describe('the progress lines', () => {
  afterEach(() => jest.restoreAllMocks());

  it("under webtask go to console.log / warn / error themselves, where the webtask's realtime logs show them, redacted", () => {
    const out: string[] = [];
    jest.spyOn(console, 'log').mockImplementation((line: string) => void out.push(`log ${line}`));
    jest.spyOn(console, 'warn').mockImplementation((line: string) => void out.push(`warn ${line}`));
    jest.spyOn(console, 'error').mockImplementation((line: string) => void out.push(`error ${line}`));
    const log = createLogger({ stream: 'console', redact: createRedactor(['the-secret-value-123']) });
    log.info('run started');
    log.warn('slow: the-secret-value-123');
    log.error('run failed');
    log.debug('not at the default level');
    expect(out).toEqual(['log info: run started', 'warn warn: slow: [redacted]', 'error error: run failed']);
  });

  it('reach onLine as written: redacted, at the level asked for', () => {
    const lines: ProgressLine[] = [];
    jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const log = createLogger({ redact: createRedactor(['the-secret-value-123']), onLine: (l) => void lines.push(l) });
    log.info('page 1: the-secret-value-123');
    log.debug('hidden');
    expect(lines.map((l) => [l.level, l.message])).toEqual([['info', 'page 1: [redacted]']]);
  });
});
