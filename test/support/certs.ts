/**
 * Throwaway certificate authorities for tests, made with the openssl CLI.
 * EC P-256 keys keep handshakes cheap; nothing here is ever trusted outside a test.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServerCert {
  /** PEM of the CA that signed the server certificate: trust this one. */
  caFile: string;
  ca: string;
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}-key.pem`], dir);
  openssl(
    ['req', '-x509', '-new', '-key', `${name}-key.pem`, '-days', '3650', '-subj', `/CN=${name}`, '-out', `${name}.pem`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
}

function makeServer(dir: string, ca: string, name: string, altNames: string): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}-key.pem`], dir);
  openssl(['req', '-new', '-key', `${name}-key.pem`, '-subj', '/CN=localhost', '-out', `${name}.csr`], dir);
  writeFileSync(
    join(dir, `${name}.ext`),
    `subjectAltName=${altNames}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
  );
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}-key.pem`, '-CAcreateserial',
      '-days', '3650', '-out', `${name}.pem`, '-extfile', `${name}.ext`],
    dir,
  );
}

function load(dir: string, ca: string, name: string): ServerCert {
  const caFile = join(dir, `${ca}.pem`);
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  return {
    caFile,
    ca: readFileSync(caFile, 'utf8'),
    certFile,
    keyFile,
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
  };
}

export interface TestPki {
  dir: string;
  /** Valid for localhost and 127.0.0.1, signed by the trusted test CA. */
  server: ServerCert;
  /** Signed by the trusted CA but issued for another host name only. */
  wrongHost: ServerCert;
  /** Valid names, but signed by a CA nobody trusts. */
  untrusted: ServerCert;
}

/**
 * Creates (or reuses, when `dir` already holds them) a trusted CA with a
 * localhost server certificate, plus the two ways a certificate can be wrong.
 */
export function createTestPki(dir: string = mkdtempSync(join(tmpdir(), 'a0pt-pki-'))): TestPki {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'untrusted-server.pem'))) {
    makeCa(dir, 'test-ca');
    makeCa(dir, 'rogue-ca');
    makeServer(dir, 'test-ca', 'server', 'DNS:localhost,IP:127.0.0.1');
    makeServer(dir, 'test-ca', 'wrong-host-server', 'DNS:not-this-host.invalid');
    makeServer(dir, 'rogue-ca', 'untrusted-server', 'DNS:localhost,IP:127.0.0.1');
  }
  return {
    dir,
    server: load(dir, 'test-ca', 'server'),
    wrongHost: load(dir, 'test-ca', 'wrong-host-server'),
    // The client is told to trust test-ca; this chain leads to rogue-ca.
    untrusted: { ...load(dir, 'rogue-ca', 'untrusted-server'), caFile: join(dir, 'test-ca.pem'), ca: readFileSync(join(dir, 'test-ca.pem'), 'utf8') },
  };
}
