// Runs an extension bundle in webtask-runtime's server, in its own process so
// that it can be given NODE_EXTRA_CA_CERTS, as the platform's trust store.
//   node webtask-host-main.js <bundle> <storage-file>   (secrets as JSON on stdin)
// Prints {"port": N} once listening; stops on SIGTERM.
const Runtime = require('webtask-runtime');
const { createDurableStorage } = require('./durable-webtask-storage');

const [bundle, storageFile] = process.argv.slice(2);
let input = '';
process.stdin.setEncoding('utf8').on('data', (c) => (input += c)).on('end', () => {
  const secrets = JSON.parse(input);
  const handler = require(bundle);
  const quiet = { info: () => {}, warn: () => {}, error: () => {}, log: () => {} };
  const server = Runtime.createServer(handler, { secrets, storage: createDurableStorage(storageFile), parseBody: Runtime.PARSE_ALWAYS, logger: quiet });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
});
