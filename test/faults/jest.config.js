// The fault suite: `npm run test:faults` (FAULTS_PROFILE=full adds the
// 1,000,000-event memory drain). It reuses the root configuration (swc
// transform, globalSetup that builds dist/ so the real CLI is driven) and
// only narrows what runs and adds the figures table.
const path = require('node:path');
const base = require('../../jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  rootDir: path.join(__dirname, '..', '..'),
  testMatch: ['<rootDir>/test/faults/**/*.faults.ts'],
  // Each scenario owns real processes (CLI, serve, rsyslogd, webtask host); two
  // workers keep a 2-core machine busy without starving the timing-sensitive ones.
  maxWorkers: 2,
  // Scenarios set their own, longer timeouts; this is the floor for the quick ones.
  testTimeout: 60_000,
  reporters: ['default', '<rootDir>/test/faults/figures-reporter.js'],
};
