// Runs an extension bundle in webtask-runtime's server, in its own process so
// that it can be given NODE_EXTRA_CA_CERTS, as the platform's trust store.
//   node webtask-host-main.js <bundle> <storage-file> [<container> <name>]   (secrets as JSON on stdin)
// With a container and a name, the extension answers below the platform's
// shared-domain prefix, /api/run/<container>/<name>/, as an installed
// extension does; without, at the root.
// Prints {"port": N} once listening; stops on SIGTERM.
const Runtime = require('webtask-runtime');
const { createDurableStorage } = require('./durable-webtask-storage');

const [bundle, storageFile, container, name] = process.argv.slice(2);
let input = '';
process.stdin.setEncoding('utf8').on('data', (c) => (input += c)).on('end', () => {
  const secrets = JSON.parse(input);
  const extension = require(bundle);
  // webtask-runtime sends no task name; the platform does, and webtask-tools strips /api/run/<container>/<name> with it.
  const handler = name === undefined ? extension : (context, req, res) => {
    req.x_wt.jtn = name;
    return extension(context, req, res);
  };
  const quiet = { info: () => {}, warn: () => {}, error: () => {}, log: () => {} };
  const prefix = container === undefined ? {} : { container, url_format: 1 };
  const server = Runtime.createServer(handler, { secrets, storage: createDurableStorage(storageFile), parseBody: Runtime.PARSE_ALWAYS, logger: quiet, ...prefix });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
});
