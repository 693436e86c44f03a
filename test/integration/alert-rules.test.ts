/**
 * The README's alert rules are docs/prometheus/alert-rules.yml, word for
 * word; promtool (Debian's `prometheus` package) finds them valid, and its
 * unit tests in test/prometheus/alert-rules.test.yml pass with, for every
 * rule, at least one case where it fires and one where it must not, so a
 * rule that cannot fire (or fires on a healthy service) fails the suite.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promtool } from '../support/prometheus';

const ROOT = join(__dirname, '..', '..');
const RULES = join(ROOT, 'docs', 'prometheus', 'alert-rules.yml');
const RULE_TESTS = join(ROOT, 'test', 'prometheus', 'alert-rules.test.yml');

const ruleNames = (text: string): string[] => [...text.matchAll(/^\s*- alert: (\S+)$/gm)].map((m) => m[1] ?? '');

describe('the alert rules', () => {
  it("are the README's rules, word for word", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n(groups:\n[\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks).toEqual([readFileSync(RULES, 'utf8')]);
  });

  it('pass promtool check rules', () => {
    const checked = promtool(['check', 'rules', RULES]);
    expect(checked.output).toContain(`SUCCESS: ${ruleNames(readFileSync(RULES, 'utf8')).length} rules found`);
    expect(checked.status).toBe(0);
  });

  it('pass their promtool unit tests', () => {
    const tested = promtool(['test', 'rules', RULE_TESTS]);
    expect(tested.output).toContain('SUCCESS');
    expect(tested.status).toBe(0);
  });

  it('each have a unit test where they fire and one where they must not', () => {
    const tests = readFileSync(RULE_TESTS, 'utf8');
    // Each expectation reads "alertname: X" then "exp_alerts: []" (must not fire) or a list (fires).
    const cases = [...tests.matchAll(/alertname: (\S+)\n\s*exp_alerts:( \[\])?/g)].map((m) => ({ rule: m[1], fires: m[2] === undefined }));
    const coverage = Object.fromEntries(ruleNames(readFileSync(RULES, 'utf8')).map((rule) => [rule, {
      fires: cases.some((c) => c.rule === rule && c.fires),
      quiet: cases.some((c) => c.rule === rule && !c.fires),
    }]));
    for (const [rule, covered] of Object.entries(coverage)) expect({ rule, ...covered }).toEqual({ rule, fires: true, quiet: true });
    expect(Object.keys(coverage).length).toBeGreaterThanOrEqual(5);
  });
});
