// ctx.storage for tests, backed by a file that never tears.
//
// webtask-runtime's own file-backed storage persists each accepted set with an
// fs.writeFile that nothing orders: two sets close together overlap, and a
// shorter document written last leaves the tail of a longer one behind it.
// The platform's storage is a service whose documents never tear, so this
// keeps the runtime's semantics (etag checks, conflicts) in memory and mirrors
// every accepted version to the file synchronously, through a rename, in order.
const { readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const Runtime = require('webtask-runtime');

function createDurableStorage(storageFile) {
  let initial;
  try {
    initial = JSON.parse(readFileSync(storageFile, 'utf8'));
  } catch {
    // No file yet: the storage starts empty, as on the platform.
  }
  const storage = Runtime.createStorage(initial);
  const accept = storage.set.bind(storage);
  storage.set = (data, options, cb) => {
    if (typeof options === 'function') [cb, options] = [options, {}];
    accept(data, options, (err) => {
      if (!err) persist(storageFile, storage.data);
      if (cb) cb(err);
    });
  };
  return storage;
}

function persist(storageFile, data) {
  if (data === undefined) return rmSync(storageFile, { force: true });
  const temp = `${storageFile}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(data, null, 2));
  renameSync(temp, storageFile);
}

module.exports = { createDurableStorage };
