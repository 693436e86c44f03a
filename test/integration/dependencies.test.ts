/**
 * webtask-tools (the webtask ↔ Express adapter) depends on old packages with
 * published advisories: jsonwebtoken 5, pug 2, superagent 3. Two defences,
 * each proven here: they stay off the runtime path, and `overrides` in
 * package.json lifts them to fixed versions anyway.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundlePath } from '../support/webtask-host';

const LAZY = ['jsonwebtoken', 'superagent', 'pug', 'boom', 'request', 'edge'];

describe('dependencies with advisories', () => {
  it('are never loaded: the extension bundle loads and exports its handler where none of them can be found', () => {
    const dir = mkdtempSync(join(tmpdir(), 'a0pt-bundle-'));
    const isolated = join(dir, 'extension.js');
    copyFileSync(bundlePath(), isolated);
    const script = `
      const Module = require('module');
      const asked = [];
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) { asked.push(request); return resolve.call(this, request, ...rest); };
      const handler = require(${JSON.stringify(isolated)});
      console.log(JSON.stringify({ type: typeof handler, arity: handler.length, asked }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' })) as { type: string; arity: number; asked: string[] };
    expect(out.type).toBe('function');
    expect(out.arity).toBe(3);
    expect(out.asked.filter((name) => LAZY.includes(name))).toEqual([]);
  });

  it('are lifted by overrides to versions without the advisories, and the lifted jsonwebtoken still does what webtask-tools calls', () => {
    // Resolve as webtask-tools itself would.
    const requireFromTools = createRequire(require.resolve('webtask-tools'));
    const version = (name: string): string => (JSON.parse(readFileSync(requireFromTools.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
    expect(Number(version('jsonwebtoken').split('.')[0])).toBeGreaterThanOrEqual(9);
    expect(Number(version('pug').split('.')[0])).toBeGreaterThanOrEqual(3);
    expect(Number(version('superagent').split('.')[0])).toBeGreaterThanOrEqual(10);
    // webtask-tools calls jwt.verify(token, secret, options) and jwt.decode(token, { complete: true }).
    const jwt = requireFromTools('jsonwebtoken') as {
      sign(p: object, s: string, o: object): string;
      verify(t: string, s: string, o: object): { sub: string };
      decode(t: string, o: object): { header: { alg: string } };
    };
    const token = jwt.sign({ sub: 'user' }, 'a-secret-of-enough-length-for-hs256', { algorithm: 'HS256', audience: 'aud' });
    expect(jwt.verify(token, 'a-secret-of-enough-length-for-hs256', { audience: 'aud', algorithms: ['HS256'] }).sub).toBe('user');
    expect(jwt.decode(token, { complete: true }).header.alg).toBe('HS256');
  });
});
