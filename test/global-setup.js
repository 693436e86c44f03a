// Integration tests drive the built artifacts (dist/cli.js and the extension
// bundle), so build them once per jest run: a stale build would test
// yesterday's code.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async () => {
  const root = path.join(__dirname, '..');
  const run = (...args) => execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  run(require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json');
  run(path.join(root, 'build', 'dashboard.mjs'));
  run(path.join(root, 'build', 'bundle.mjs'));
};
