/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // test/runtimes holds wt-cli and a Node 18 binary that tests run as programs, not modules.
  modulePathIgnorePatterns: ['<rootDir>/test/runtimes/'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/runtimes/'],
  // swc only strips types; `npm run typecheck` runs tsc over src and test.
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  // The integration suites start real servers (rsyslogd, HTTPS); two workers fit a 2-core CI machine.
  maxWorkers: 2,
  globalSetup: '<rootDir>/test/global-setup.js',
  testTimeout: 60_000,
  collectCoverageFrom: ['src/**/*.ts'],
};
