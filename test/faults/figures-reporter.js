// Jest reporter for the fault suite: gathers the one-row-per-scenario figures
// that the scenarios write (see support/figures.ts), prints them as ONE
// Markdown table after the run, and keeps them in results/latest.json.
//
// Scenarios run in jest workers, so they cannot hand rows to the reporter in
// memory. The reporter is constructed before any worker is spawned, so a
// directory named in the environment here is inherited by every worker.
const { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ENV_DIR = 'FAULTS_FIGURES_DIR';

const COLUMNS = [
  ['scenario', (r) => r.scenario],
  ['expected', (r) => count(r.expected)],
  ['delivered', (r) => count(r.delivered)],
  ['missing', (r) => count(r.missing)],
  ['duplicates', (r) => count(r.duplicates)],
  ['runs', (r) => count(r.runs)],
  ['wall time', (r) => `${(r.wallMs / 1000).toFixed(1)} s`],
  ['result', (r) => r.result],
  ['notes', (r) => r.notes ?? ''],
];

function count(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : String(n);
}

function cell(text) {
  // A pipe would split the Markdown cell.
  return String(text).replace(/\|/g, '\\|');
}

class FiguresReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'a0pt-fault-figures-'));
    process.env[ENV_DIR] = this.dir;
    this.statusByTest = new Map();
    this.startedAt = Date.now();
  }

  onTestResult(_test, testResult) {
    for (const r of testResult.testResults) this.statusByTest.set(r.fullName, r.status);
  }

  onRunComplete(_contexts, aggregated) {
    const rows = this.readRows();
    const wallMs = Date.now() - this.startedAt;
    for (const row of rows) {
      const status = this.statusByTest.get(row.test);
      row.result = status === 'passed' ? 'pass' : status === undefined ? 'unknown' : status.toUpperCase();
    }
    const meta = {
      date: new Date().toISOString(),
      profile: process.env['FAULTS_PROFILE'] || 'ci',
      node: process.version,
      cores: os.cpus().length,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      suiteWallMs: wallMs,
      tests: { passed: aggregated.numPassedTests, failed: aggregated.numFailedTests, total: aggregated.numTotalTests },
    };
    const header = `Fault suite figures: ${meta.date}, profile ${meta.profile}, ${meta.cores} cores, Node ${meta.node}, ` +
      `suite wall time ${(wallMs / 1000).toFixed(0)} s, tests ${meta.tests.passed}/${meta.tests.total} passed`;
    const lines = [
      `| ${COLUMNS.map(([name]) => name).join(' | ')} |`,
      `|${COLUMNS.map(([name], i) => (i === 0 || name === 'notes' || name === 'result' ? ' --- ' : ' ---: ')).join('|')}|`,
      ...rows.map((r) => `| ${COLUMNS.map(([, get]) => cell(get(r))).join(' | ')} |`),
    ];
    process.stdout.write(`\n${header}\n\n${lines.join('\n')}\n\n`);

    const resultsDir = path.join(this.rootDir, 'test', 'faults', 'results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(path.join(resultsDir, 'latest.json'), `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
    rmSync(this.dir, { recursive: true, force: true });
  }

  readRows() {
    let names = [];
    try {
      names = readdirSync(this.dir).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
    const rows = [];
    for (const name of names) {
      try {
        rows.push(JSON.parse(readFileSync(path.join(this.dir, name), 'utf8')));
      } catch {
        // A worker killed mid-write leaves a torn row; the table shows what is whole.
      }
    }
    return rows.sort((a, b) => a.rank - b.rank || a.recordedAt - b.recordedAt);
  }

  getLastError() {
    return undefined;
  }
}

module.exports = FiguresReporter;
