/**
 * Proves the rsyslog test receiver with plain `tls` clients, so later suites
 * can trust it as a Papertrail stand-in: fields parsed, order kept, large
 * messages whole, nothing lost once the server has closed the connection,
 * restart on the same port, and bad certificates refused by a verifying client.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { createTestPki, type TestPki } from '../support/certs';
import { rawFrameOf, startRsyslogReceiver, stopAllReceivers, type RsyslogReceiver } from '../support/rsyslog-receiver';

let pki: TestPki;

beforeAll(() => {
  // One PKI for the file: certificate generation costs more than starting rsyslogd.
  pki = createTestPki(mkdtempSync(join(tmpdir(), 'a0pt-pki-')));
});

afterAll(async () => {
  await stopAllReceivers();
  rmSync(pki.dir, { recursive: true, force: true });
});

function connect(receiver: RsyslogReceiver, extra: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: receiver.host, port: receiver.port, ca: receiver.ca, servername: 'localhost', ...extra });
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Writes LF-framed lines honouring backpressure, ends, and resolves when the server has closed the connection. */
async function sendLines(receiver: RsyslogReceiver, lines: readonly string[]): Promise<void> {
  const socket = await connect(receiver);
  const closed = new Promise<void>((resolve, reject) => {
    socket.once('close', () => resolve());
    socket.once('error', reject);
  });
  for (const line of lines) {
    if (!socket.write(`${line}\n`)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  socket.end();
  await closed;
}

function line(i: number, body: string): string {
  return `<134>1 2024-05-01T10:00:00.000Z test-host test-app ${i} ID${i} - ${body}`;
}

describe('rsyslog TLS receiver', () => {
  test('parses every RFC 5424 field of LF-framed lines', async () => {
    const r = await startRsyslogReceiver({ cert: pki.server });
    try {
      expect(r.host).toBe('127.0.0.1');
      expect(r.port).toBeGreaterThan(0);
      const lines = [
        '<134>1 2024-05-01T10:00:00.123Z host-a app-a 123 ID47 - hello 5424 LF',
        // facility 20 (local4), severity 5; structured data is not part of MSG
        '<165>1 2003-10-11T22:14:15.003000-07:00 mymachine.example.com evntslog - ID47 ' +
          '[exampleSDID@32473 iut="3" eventSource="Application"] An application event',
        '<0>1 2024-12-31T23:59:59Z h0 a0 - - - emergency kern',
        '<191>1 2024-02-29T12:00:00.5+05:30 h7 a7 p7 m7 - debug local7',
      ];
      await sendLines(r, lines);
      const got = await r.waitForCount(lines.length);
      expect(got).toHaveLength(lines.length);
      expect(got[0]).toEqual({
        raw: lines[0],
        hostname: 'host-a',
        appname: 'app-a',
        procid: '123',
        msgid: 'ID47',
        structuredData: '-',
        severity: 6,
        facility: 16,
        timestamp: '2024-05-01T10:00:00.123Z',
        msg: 'hello 5424 LF',
      });
      expect(got[1]).toMatchObject({
        hostname: 'mymachine.example.com', appname: 'evntslog', procid: '-', msgid: 'ID47',
        structuredData: '[exampleSDID@32473 iut="3" eventSource="Application"]',
        severity: 5, facility: 20, timestamp: '2003-10-11T22:14:15.003000-07:00', msg: 'An application event',
      });
      expect(got[2]).toMatchObject({ hostname: 'h0', appname: 'a0', severity: 0, facility: 0, timestamp: '2024-12-31T23:59:59Z', msg: 'emergency kern' });
      expect(got[3]).toMatchObject({
        hostname: 'h7', appname: 'a7', procid: 'p7', msgid: 'm7', severity: 7, facility: 23,
        timestamp: '2024-02-29T12:00:00.5+05:30', msg: 'debug local7',
      });
    } finally {
      await r.stop();
    }
  });

  test('MSG comes back byte-exact: JSON escapes, non-ASCII UTF-8, spaces, control characters', async () => {
    const r = await startRsyslogReceiver({ cert: pki.server });
    try {
      const bodies = [
        // What the product sends: JSON.stringify output, with every escape JSON has.
        JSON.stringify({ d: 'café \u00e9 😀 𝄞 中文', q: '"quoted" \\ back/slash', nl: 'a\nb\r\nc\td', nul: '\u0000\u001f', ls: '\u2028\u2029' }),
        '  leading and trailing spaces  ',
        'raw tab\there and a trailing CR\r',
        '\uFEFFstarts with a BOM',
        '#012 looks like an rsyslog escape but is literal',
      ];
      await sendLines(r, bodies.map((b, i) => line(i, b)));
      const got = await r.waitForCount(bodies.length);
      expect(got.map((m) => m.msg)).toEqual(bodies);
      for (const [i, m] of got.entries()) expect(Buffer.from(m.msg, 'utf8').equals(Buffer.from(bodies[i] ?? '', 'utf8'))).toBe(true);
      // `raw` shows control characters the way rsyslog escapes them (#ddd, decimal).
      expect(got[2]?.raw).toBe(line(2, 'raw tab#009here and a trailing CR#013'));
    } finally {
      await r.stop();
    }
  });

  test('keeps the order of 10,000 lines from one connection', async () => {
    const r = await startRsyslogReceiver({ cert: pki.server });
    try {
      const n = 10_000;
      const lines = Array.from({ length: n }, (_, i) => line(i, JSON.stringify({ seq: i, pad: 'p'.repeat(i % 300) })));
      await sendLines(r, lines);
      const got = await r.waitForCount(n);
      expect(got).toHaveLength(n);
      const outOfOrder = got.findIndex((m, i) => m.procid !== String(i) || m.msg !== JSON.stringify({ seq: i, pad: 'p'.repeat(i % 300) }));
      expect(outOfOrder).toBe(-1);
    } finally {
      await r.stop();
    }
  });

  test('a 100,000-byte message arrives whole, as one message', async () => {
    const r = await startRsyslogReceiver({ cert: pki.server });
    try {
      // Varied content (including multi-byte characters) so a split or a
      // dropped chunk could not go unnoticed; exactly 100,000 bytes.
      let big = JSON.stringify({ data: Array.from({ length: 9000 }, (_, i) => `é${i}`).join(',') });
      big = big.slice(0, -2) + 'x'.repeat(100_000 - Buffer.byteLength(big)) + big.slice(-2);
      expect(Buffer.byteLength(big)).toBe(100_000);
      await sendLines(r, [line(1, big), line(2, 'after the big one')]);
      const got = await r.waitForCount(2);
      await new Promise((resolve) => setTimeout(resolve, 100)); // nothing else trickles in
      expect(await r.messages()).toHaveLength(2);
      expect(Buffer.byteLength(got[0]?.msg ?? '')).toBe(100_000);
      expect(got[0]?.msg).toBe(big);
      expect(got[1]?.msg).toBe('after the big one');
    } finally {
      await r.stop();
    }
  });

  test('once the server has closed the connection, every message is in the file even if rsyslogd is SIGKILLed at once', async () => {
    const r = await startRsyslogReceiver({ cert: pki.server });
    try {
      let expected = 0;
      // Several rounds, with a crash and a restart after each, and a mix of
      // sizes so that reads end at arbitrary points inside messages.
      for (let round = 0; round < 4; round++) {
        const n = 3000;
        const lines = Array.from({ length: n }, (_, i) =>
          line(i, JSON.stringify({ round, i, pad: 'd'.repeat(i % 97 === 0 ? 40_000 : (i * 31) % 900) })));
        await sendLines(r, lines); // resolves on 'close', i.e. after the server closed
        await r.kill(); // SIGKILL, no chance to flush anything
        expected += n;
        const got = await r.messages(); // no waiting: it must already be there
        expect(got).toHaveLength(expected);
        expect(got.slice(-n).map((m) => m.msg)).toEqual(lines.map((l) => l.slice(l.indexOf(' - ') + 3)));
        await r.restart();
      }
    } finally {
      await r.stop();
    }
  });

  test('restart() listens on the same port and keeps what was received', async () => {
    const r = await startRsyslogReceiver({ cert: pki.server });
    try {
      const { port, pid } = r;
      await sendLines(r, [line(1, 'before restart')]);
      await r.waitForCount(1);
      await r.restart();
      expect(r.port).toBe(port);
      expect(r.pid).not.toBe(pid);
      await sendLines(r, [line(2, 'after restart')]);
      // and again after a crash
      await r.kill();
      await r.restart();
      expect(r.port).toBe(port);
      await sendLines(r, [line(3, 'after crash and restart')]);
      const got = await r.waitForCount(3);
      expect(got.map((m) => m.msg)).toEqual(['before restart', 'after restart', 'after crash and restart']);
    } finally {
      await r.stop();
    }
  });

  test('ignores a partially written last line until it is complete', async () => {
    const r = await startRsyslogReceiver({ cert: pki.server });
    try {
      await sendLines(r, [line(1, 'complete')]);
      await r.waitForCount(1);
      await r.stop();
      // Simulate a write torn in the middle of a multi-byte character. This
      // knows the harness's file layout: first run writes out/messages.0.jsonl.
      const file = join(r.dir, 'out', 'messages.0.jsonl');
      const record = Buffer.from(`${JSON.stringify({
        raw: line(2, 'torné'), protocolVersion: '1', timereported: '2024-05-01T10:00:00.000Z', hostname: 'test-host',
        appname: 'test-app', procid: '2', msgid: 'ID2', structuredData: '-', severity: '6', facility: '16', msg: 'torné',
      })}\n`);
      const cut = record.indexOf(Buffer.from('é')) + 1;
      appendFileSync(file, record.subarray(0, cut));
      expect(await r.messages()).toHaveLength(1);
      appendFileSync(file, record.subarray(cut));
      const got = await r.messages();
      expect(got).toHaveLength(2);
      expect(got[1]?.msg).toBe('torné');
    } finally {
      await r.stop();
    }
  });

  test('passes an SD-ID over 32 characters through whole, but would pass broken ones too: the raw frame is what tells', async () => {
    const r = await startRsyslogReceiver({ cert: pki.server });
    try {
      const token = '012345-ABCDEFGHIJ_klmnopqrst';
      const sdLine = (msgid: string, sd: string) => `<134>1 2024-05-01T10:00:00.000Z h a - ${msgid} ${sd} {"n":1}`;
      await sendLines(r, [
        sdLine('long', `[${token}@41058]`),
        sdLine('spaced', '[tok en@41058]'),
        sdLine('quoted', '[tok"en@41058]'),
        sdLine('unclosed', '[token@41058'),
        sdLine('m'.repeat(40), '-'),
      ]);
      const got = await r.waitForCount(5);
      // rsyslog's RFC 5424 parser applies neither the 32-character SD-NAME limit nor its character rules…
      expect(got.map((m) => m.structuredData)).toEqual([`[${token}@41058]`, '[tok en@41058]', '[tok"en@41058]', '[token@41058 {"n":1', '-']);
      // …nor the MSGID limit, and an unclosed element swallows MSG: its fields cannot vouch for a frame.
      expect(got[4]?.msgid).toBe('m'.repeat(40));
      expect(got[3]?.msg).toBe('}');
      // The raw frame, read by RFC 5424's grammar, can: only the first is one well-formed element.
      expect(got.map((m) => rawFrameOf(m.raw)?.structuredData)).toEqual([`[${token}@41058]`, undefined, undefined, undefined, '-']);
      expect(got.map((m) => /^\[[^\s=\]"@]+@41058\]$/.test(rawFrameOf(m.raw)?.structuredData ?? ''))).toEqual([true, false, false, false, false]);
    } finally {
      await r.stop();
    }
  });

  test.each([
    ['wrong-host', 'wrongHost', 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ['untrusted', 'untrusted', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
  ] as const)('a verifying client refuses a %s server certificate', async (_name, which, code) => {
    const r = await startRsyslogReceiver({ cert: pki[which] });
    try {
      // The receiver tells clients to trust the test CA, as for the good certificate.
      expect(r.ca).toBe(pki.server.ca);
      const attempt = new Promise<tls.TLSSocket>((resolve, reject) => {
        const socket = tls.connect({ host: r.host, port: r.port, ca: r.ca, servername: 'localhost' }, () => resolve(socket));
        socket.once('error', reject);
        // Queued before the handshake: must never reach the server.
        socket.write(`${line(1, 'must not arrive')}\n`);
      });
      await expect(attempt).rejects.toMatchObject({ code });

      // Control: the same receiver does accept a client that skips
      // verification, so the refusal above was the certificate check.
      await new Promise<void>((resolve, reject) => {
        const socket = tls.connect({ host: r.host, port: r.port, rejectUnauthorized: false }, () => {
          socket.end(`${line(2, 'unverified control')}\n`);
        });
        socket.once('close', () => resolve());
        socket.once('error', reject);
      });
      const got = await r.waitForCount(1);
      expect(got.map((m) => m.msg)).toEqual(['unverified control']);
    } finally {
      await r.stop();
    }
  });
});
