/** The bench's output: one table on stdout, and the same figures as JSON under bench/results/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment } from './environment';
import type { BenchOptions } from './options';
import type { Figure } from './stats';

export type Unit = 'lines/s' | 'logs/s' | 'logs/min' | '%' | 'µs/line' | 'µs/log' | 'µs/page' | 'ms' | 's' | 'MB' | 'count' | '×';

export interface Target {
  op: '>=' | '<=';
  value: number;
  /** Which run the verdict is on: the median, or the worst one (for must-never-happen counts). */
  on: 'median' | 'worst';
}

export interface Row {
  scenario: string;
  measure: string;
  unit: Unit;
  figure: Figure;
  target?: Target;
  /** Present exactly when there is a target. */
  met?: boolean;
}

export interface ScenarioResult {
  name: string;
  rows: Row[];
  /** Per-run measurements and checks, for the JSON only. */
  details: unknown;
  /** Lost or duplicated events, failed runs, errors: any entry makes the bench exit non-zero. */
  failures: string[];
  /** What the table alone does not say (a target's gap and what closes it); printed under the table. */
  notes?: string[];
}

export function row(scenario: string, measure: string, unit: Unit, figure: Figure, target?: Target): Row {
  if (target === undefined) return { scenario, measure, unit, figure };
  const worst = target.op === '>=' ? figure.min : figure.max;
  const value = target.on === 'median' ? figure.median : worst;
  const met = target.op === '>=' ? value >= target.value : value <= target.value;
  return { scenario, measure, unit, figure, target, met };
}

function formatValue(value: number, unit: Unit): string {
  const grouped = (n: number, digits: number): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  switch (unit) {
    case 'lines/s':
    case 'logs/s':
    case 'logs/min':
    case 'count':
      return grouped(Math.round(value), 0);
    case '%':
      return `${grouped(value, 1)} %`;
    case '×':
      return `${grouped(value, 2)}×`;
    case 's':
      return `${grouped(value, 2)} s`;
    case 'ms':
      return `${grouped(value, 2)} ms`;
    case 'MB':
      return `${grouped(value, 1)} MB`;
    default:
      return `${grouped(value, 1)} ${unit}`;
  }
}

function unitSuffix(unit: Unit): string {
  return unit === 'lines/s' || unit === 'logs/s' || unit === 'logs/min' ? ` ${unit}` : '';
}

function formatTarget(target: Target | undefined, unit: Unit): string {
  if (target === undefined) return '';
  const value = unit === '%' ? `${target.value} %` : unit === '×' ? `${target.value}×` : String(target.value);
  return `${target.op === '>=' ? '≥' : '≤'} ${value}${target.on === 'worst' ? ' every run' : ''}`;
}

function pad(text: string, width: number, right: boolean): string {
  const gap = ' '.repeat(Math.max(0, width - [...text].length));
  return right ? gap + text : text + gap;
}

export function renderTable(environment: Environment, options: BenchOptions, rows: readonly Row[], seconds: number): string {
  const head = ['Scenario', 'Measure', 'Median', 'Min', 'Max', 'Runs', 'Target', 'Met'];
  const body = rows.map((r) => [
    r.scenario,
    r.measure,
    formatValue(r.figure.median, r.unit) + unitSuffix(r.unit),
    formatValue(r.figure.min, r.unit),
    formatValue(r.figure.max, r.unit),
    String(r.figure.values.length),
    formatTarget(r.target, r.unit),
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  const rightAligned = [false, false, true, true, true, true, false, false];
  const widths = head.map((h, c) => Math.max([...h].length, ...body.map((cells) => [...(cells[c] as string)].length)));
  const line = (cells: readonly string[]): string => cells.map((cell, c) => pad(cell, widths[c] as number, rightAligned[c] as boolean)).join('  ').trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  const out = [
    `auth0-logs-to-papertrail bench · ${environment.date}`,
    `Node ${environment.node} · ${environment.cores} cores · ${environment.cpuModel} · rsyslogd ${environment.rsyslog} · load avg at start ${environment.loadAverageAtStart}`,
    `Profile: ${options.quick ? 'quick' : 'full'}, ${options.runs} run(s) per figure (median, min, max) · scenarios ${options.scenarios.join(', ')} · took ${Math.round(seconds)} s`,
    '',
    line(head),
    rule,
  ];
  let previous: string | undefined;
  for (const [k, cells] of body.entries()) {
    const scenario = rows[k]?.scenario;
    if (previous !== undefined && scenario !== previous) out.push('');
    out.push(line(scenario === previous ? ['', ...cells.slice(1)] : cells));
    previous = scenario;
  }
  return out.join('\n');
}

export interface ResultDocument {
  environment: Environment;
  options: BenchOptions;
  durationSeconds: number;
  rows: Row[];
  failures: string[];
  details: Record<string, unknown>;
}

/** Writes `<ISO timestamp>.json` and `latest.json`; returns the first path. */
export function writeResults(dir: string, document: ResultDocument): string {
  mkdirSync(dir, { recursive: true });
  // Colons are not allowed in file names everywhere (Windows, some sync tools).
  const file = join(dir, `${document.environment.date.replace(/:/g, '-')}.json`);
  const json = `${JSON.stringify(document, null, 2)}\n`;
  writeFileSync(file, json);
  writeFileSync(join(dir, 'latest.json'), json);
  return file;
}
