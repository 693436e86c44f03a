/**
 * A real rsyslogd, listening for TLS syslog on 127.0.0.1, as a stand-in for
 * Papertrail in integration tests. rsyslogd is spawned directly by this
 * process (no shell in between) so the test owns the child: it can SIGTERM or
 * SIGKILL it and knows for certain when it is gone.
 *
 * Every message is written as one JSON object per line; `messages()` reads the
 * file incrementally and only ever returns complete lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import Module from 'node:module';
import { once } from 'node:events';
import {
  accessSync, closeSync, constants as fsConstants, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync,
  readdirSync, readFileSync, readlinkSync, readSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestPki, type ServerCert } from './certs';

export interface ReceivedMessage {
  /** The frame as received (without the LF framing), control characters escaped by rsyslog as `#ddd` (decimal). */
  raw: string;
  hostname: string;
  appname: string;
  procid: string;
  msgid: string;
  /**
   * STRUCTURED-DATA as rsyslog's RFC 5424 parser gave it. Not to be trusted
   * for an SD-ID longer than RFC 5424's 32 characters (see `sdOf` for
   * reading the raw frame instead).
   */
  structuredData: string;
  /** 0-7 */
  severity: number;
  facility: number;
  /** The header TIMESTAMP as sent (RFC 5424); for other formats rsyslog's RFC 3339 rendering of it. */
  timestamp: string;
  /** MSG exactly as received, byte for byte (decoded as UTF-8). */
  msg: string;
}

/**
 * Where the receiver writes: one JSON record per message, in one file per
 * rsyslogd start, `<dir>/out/messages.<generation>.jsonl`.
 */
const OUTPUT_FILE = /^messages\.(\d+)\.jsonl$/;
const outputFileName = (generation: number): string => `messages.${generation}.jsonl`;

/** The output files in `outDir` (the receiver's `<dir>/out`), in start order, which is arrival order. */
export function outputFilesIn(outDir: string): string[] {
  if (!existsSync(outDir)) return [];
  const generation = (name: string): number => Number(OUTPUT_FILE.exec(name)?.[1] ?? Number.NaN);
  return readdirSync(outDir)
    .filter((name) => !Number.isNaN(generation(name)))
    .sort((a, b) => generation(a) - generation(b))
    .map((name) => join(outDir, name));
}

/** The exporter writes the event as given, and Auth0 (and the simulated tenant) put log_id first. */
const LEADING_LOG_ID = /^\{"log_id":"([^"\\]+)"/;

/**
 * The log_id of the event in one output record (a line of an output file),
 * without parsing the event when it starts with its log_id; undefined for a
 * record that is not one of our events.
 */
export function logIdOfRecord(line: string): string | undefined {
  try {
    const record = JSON.parse(line) as { msg?: unknown };
    if (typeof record.msg !== 'string') return undefined;
    const fast = LEADING_LOG_ID.exec(record.msg)?.[1];
    if (fast !== undefined) return fast;
    const id = (JSON.parse(record.msg) as { log_id?: unknown }).log_id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The header fields of an RFC 5424 frame as they were on the wire, read from
 * the raw message rather than from rsyslog's parser. rsyslogd 8's RFC 5424
 * parser accepts an SD-ID of any length (it does not apply RFC 5424's
 * 32-character SD-NAME limit) and does not check SD-NAME characters either:
 * it takes everything up to the next ']' (a space or '"' inside an SD-ID
 * passes, and an unclosed element swallows MSG up to the next ']'). Its
 * structured-data property therefore cannot tell a correct element from a
 * broken one; the raw frame can. Header fields hold no control characters,
 * so rsyslog's #ddd escaping of the raw message does not touch them.
 */
export interface RawFrame {
  pri: number;
  timestamp: string;
  hostname: string;
  appname: string;
  procid: string;
  msgid: string;
  /** `-`, or the SD elements exactly as sent. */
  structuredData: string;
}

/** SD-NAME characters (PRINTUSASCII except '=', SP, ']' and '"'), of any length: see RawFrame. */
const SD_NAME = '[\\x21\\x23-\\x3c\\x3e-\\x5c\\x5e-\\x7e]+';
/** RFC 5424 SD-ELEMENT: "[" SD-ID *(SP PARAM-NAME "=" DQUOTE PARAM-VALUE DQUOTE) "]", with '"', '\' and ']' escaped in values. */
const SD_ELEMENT = `\\[${SD_NAME}(?: ${SD_NAME}="(?:[^"\\\\\\]]|\\\\.)*")*\\]`;
const RAW_HEADER = new RegExp(`^<(\\d{1,3})>1 (\\S+) (\\S+) (\\S+) (\\S+) (\\S+) (-|(?:${SD_ELEMENT})+)(?: |$)`);

/** The header of a raw RFC 5424 frame; undefined when the frame is not one. */
export function rawFrameOf(raw: string): RawFrame | undefined {
  const m = RAW_HEADER.exec(raw);
  if (!m) return undefined;
  return { pri: Number(m[1]), timestamp: m[2] ?? '', hostname: m[3] ?? '', appname: m[4] ?? '', procid: m[5] ?? '', msgid: m[6] ?? '', structuredData: m[7] ?? '' };
}

export interface RsyslogReceiver {
  host: '127.0.0.1';
  port: number;
  /** CA that signed the server certificate: what a verifying client must trust. */
  caFile: string;
  ca: string;
  dir: string;
  /** pid of the current rsyslogd (changes on restart). */
  readonly pid: number;
  messages(): Promise<ReceivedMessage[]>;
  waitForCount(n: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  /** SIGTERM, resolves once the process has exited. */
  stop(): Promise<void>;
  /** SIGKILL, resolves once the process has exited. */
  kill(): Promise<void>;
  /** Starts rsyslogd again on the same port, keeping what was already received (stops it first if running). */
  restart(): Promise<void>;
}

export interface RsyslogReceiverOptions {
  /** Where config, work dir, output and log go. Default: a fresh temp dir, removed when the process exits. */
  dir?: string;
  /** Server certificate. Default: `createTestPki(dir/pki).server`. */
  cert?: ServerCert;
  /** 0 (default) = any free port. */
  port?: number;
  /**
   * How long `start`/`restart` wait for the listening socket. Default 20 s: the gtls driver generates
   * 2048-bit DH parameters at every start (typically 0.05-0.9 s, longer on a busy CI machine).
   */
  startTimeoutMs?: number;
}

const HOST = '127.0.0.1';
/** The product sends MSG of up to 100,000 bytes; this leaves room for the header so nothing is split. */
const MAX_MESSAGE_SIZE = '128k';
const TCP_LISTEN = '0A';

interface LiveChild {
  child: ChildProcess;
  watchdog: ChildProcess | undefined;
}

/** What the exit hook needs; one per process, shared by every copy of this module. */
interface Registry {
  /** Every rsyslogd started and not yet seen exit. */
  live: Set<LiveChild>;
  /** Temp dirs created here (not ones passed in); removed on exit. */
  ownedDirs: Set<string>;
}

const REGISTRY = Symbol.for('auth0-logs-to-papertrail/test/rsyslog-receiver');

/**
 * jest gives each test file a copy of `process` whose 'exit' event never
 * fires, and loads this module afresh for each file. So the hook goes on the
 * real process object (reached through Node's module loader, which jest does
 * not sandbox), and its state hangs off that object, so that one hook serves
 * every test file in a worker instead of adding a listener per file.
 */
function realProcess(): NodeJS.Process {
  try {
    const loader = Module as unknown as { _load?: (request: string, parent: null, isMain: boolean) => unknown };
    const candidate = loader._load?.('process', null, false) as NodeJS.Process | undefined;
    if (candidate !== undefined && typeof candidate.on === 'function' && candidate.pid === process.pid) return candidate;
  } catch {
    // fall back to the global one (correct outside jest)
  }
  return process;
}

function registry(): Registry {
  const proc = realProcess() as unknown as Record<symbol, Registry | undefined>;
  const existing = proc[REGISTRY];
  if (existing !== undefined) return existing;
  const created: Registry = { live: new Set(), ownedDirs: new Set() };
  proc[REGISTRY] = created;
  // 'exit' handlers must be synchronous: signal, do not wait. A test that
  // forgot to stop its receiver must not leave rsyslogd behind. (If this
  // process is SIGKILLed instead, the watchdog below does it.)
  realProcess().on('exit', () => {
    for (const { child, watchdog } of created.live) {
      if (child.pid !== undefined) trySignal(child.pid, 'SIGKILL');
      if (watchdog?.pid !== undefined) trySignal(watchdog.pid, 'SIGKILL');
    }
    if (process.env['RSYSLOG_RECEIVER_KEEP'] === undefined) {
      for (const d of created.ownedDirs) rmSync(d, { recursive: true, force: true });
    }
  });
  return created;
}

/** Receivers of this module instance (this test file) not yet stopped; `stopAllReceivers` stops them. */
const receivers = new Set<Receiver>();
/** Temporary directories this module instance (this test file) created; `stopAllReceivers` removes them. */
const dirsOfThisFile = new Set<string>();

function trySignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

let rsyslogdPath: string | undefined;

/** rsyslogd lives in /usr/sbin, which a non-root user's PATH often lacks. */
function findRsyslogd(): string {
  if (rsyslogdPath !== undefined) return rsyslogdPath;
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    if (d === '') continue;
    const candidate = join(d, 'rsyslogd');
    try {
      accessSync(candidate, fsConstants.X_OK);
      rsyslogdPath = candidate;
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new Error('rsyslogd not found (PATH, /usr/sbin, /sbin). Run `node scripts/ensure-test-deps.mjs` to install it.');
}

/** RainerScript string literal: backslash and double quote must be escaped. */
function q(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function renderConfig(p: { dir: string; port: number; portFile: string; outFile: string; cert: ServerCert }): string {
  return `# Generated by test/support/rsyslog-receiver.ts - test-only TLS syslog receiver.
global(
  workDirectory=${q(join(p.dir, 'work'))}
  maxMessageSize="${MAX_MESSAGE_SIZE}"
  # Keep control characters as sent, so MSG can be compared byte for byte;
  # the raw field escapes them at output time instead.
  parser.escapeControlCharactersOnReceive="off"
  defaultNetstreamDriver="gtls"
  defaultNetstreamDriverCAFile=${q(resolve(p.cert.caFile))}
  defaultNetstreamDriverCertFile=${q(resolve(p.cert.certFile))}
  defaultNetstreamDriverKeyFile=${q(resolve(p.cert.keyFile))}
)
# Durability and order: with a Direct main queue the imtcp thread that read a
# chunk from a connection runs the ruleset and the omfile action itself, and
# omfile write()s its buffer at the end of that batch (flushOnTXEnd) before the
# thread reads the next chunk. rsyslogd closes a connection only after reading
# the client's EOF, so once a client sees the close, everything it sent is in
# the file (page cache), even if rsyslogd is SIGKILLed right after. A
# connection is served by one thread at a time, so arrival order is kept.
# (Measured faster than a LinkedList queue with one worker, too.)
main_queue(queue.type="Direct")
# No imuxsock/imklog/imjournal: nothing from the host is read.
module(load="imtcp"
  streamDriver.name="gtls"
  streamDriver.mode="1"
  streamDriver.authMode="anon"
  maxSessions="1000"
)
input(type="imtcp" address="${HOST}" port="${p.port}" listenPortFileName=${q(p.portFile)} ruleset="received")

# One JSON object per line: jsonf escapes quotes, backslashes and control
# characters, so a line never contains a raw LF and MSG survives exactly.
template(name="receivedJson" type="list" option.jsonf="on") {
  property(outname="raw" name="rawmsg" controlcharacters="escape" format="jsonf")
  property(outname="protocolVersion" name="protocol-version" format="jsonf")
  property(outname="timereported" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="appname" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="structuredData" name="structured-data" format="jsonf")
  property(outname="severity" name="syslogseverity" format="jsonf")
  property(outname="facility" name="syslogfacility" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}
ruleset(name="received") {
  action(type="omfile" file=${q(p.outFile)} template="receivedJson" flushOnTXEnd="on" asyncWriting="off")
}
`;
}

/**
 * Is 127.0.0.1:port in LISTEN state, on a socket that process `pid` holds?
 * Reads /proc/net/tcp (no probe connection, so rsyslogd logs no handshake
 * error) and matches the socket inode against /proc/<pid>/fd, because with a
 * fixed port a LISTEN entry alone could belong to some other process.
 */
function isListeningBy(port: number, pid: number): boolean {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  try {
    for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n')) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const cols = line.trim().split(/\s+/);
      const inode = cols[9];
      if (cols[1] === local && cols[3] === TCP_LISTEN && inode !== undefined) inodes.add(`socket:[${inode}]`);
    }
    if (inodes.size === 0) return false;
    const fdDir = `/proc/${pid}/fd`;
    return readdirSync(fdDir).some((fd) => {
      try {
        return inodes.has(readlinkSync(join(fdDir, fd)));
      } catch {
        return false; // fd closed meanwhile
      }
    });
  } catch {
    return false;
  }
}

/** rsyslogd keeps running when it cannot bind (it only logs), so the log is the quick way to know. */
const BIND_FAILURE = /Could not create tcp listener|Error while binding/;
/**
 * rsyslogd also keeps running with a bad config or an unreadable key (every
 * handshake then fails). A healthy start logs nothing at all, so an error
 * logged during start fails it, rather than letting a test time out later.
 */
function startupErrors(log: string): string[] {
  // Lines about a client's connection (a bad client may connect as soon as
  // the port opens, e.g. a reconnect loop during restart) are not ours.
  return log.split('\n').filter((l) => /\berror\b/i.test(l) && !/handshake|connection|remote/i.test(l));
}

function readFrom(file: string, offset: number): string {
  try {
    return readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function tail(file: string, chars = 2000): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.length > chars ? `…${text.slice(-chars)}` : text;
  } catch {
    return '(no log)';
  }
}

interface RawRecord {
  raw: string; protocolVersion: string; timereported: string; hostname: string; appname: string;
  procid: string; msgid: string; structuredData: string; severity: string; facility: string; msg: string;
}

const RECORD_KEYS: readonly (keyof RawRecord)[] = [
  'raw', 'protocolVersion', 'timereported', 'hostname', 'appname', 'procid', 'msgid', 'structuredData', 'severity', 'facility', 'msg',
];

function isRawRecord(value: unknown): value is RawRecord {
  if (typeof value !== 'object' || value === null) return false;
  const rec = value as Record<string, unknown>;
  return RECORD_KEYS.every((k) => typeof rec[k] === 'string');
}

/**
 * RFC 5424 header: `<PRI>VERSION SP TIMESTAMP SP ...`. rsyslog re-renders
 * `timereported` (e.g. it may change the fraction), so the token is taken from
 * the frame itself; header fields contain no control characters to be escaped.
 */
const RFC5424_TIMESTAMP = /^<\d{1,3}>\d{1,2} (\S+) /;

function toMessage(rec: RawRecord): ReceivedMessage {
  const sent = rec.protocolVersion === '1' ? RFC5424_TIMESTAMP.exec(rec.raw)?.[1] : undefined;
  return {
    raw: rec.raw,
    hostname: rec.hostname,
    appname: rec.appname,
    procid: rec.procid,
    msgid: rec.msgid,
    structuredData: rec.structuredData,
    severity: Number(rec.severity),
    facility: Number(rec.facility),
    timestamp: sent ?? rec.timereported,
    msg: rec.msg,
  };
}

/**
 * Incremental reader of one output file. Bytes after the last LF are kept
 * back (as bytes, so a UTF-8 sequence is never cut) until the line is complete.
 */
class JsonlTail {
  private offset = 0;
  private pending: Buffer = Buffer.alloc(0);

  constructor(readonly file: string) {}

  readNew(into: ReceivedMessage[]): void {
    if (!existsSync(this.file)) return;
    const fd = openSync(this.file, 'r');
    let chunk: Buffer;
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return;
      chunk = Buffer.allocUnsafe(size - this.offset);
      let got = 0;
      while (got < chunk.length) {
        const n = readSync(fd, chunk, got, chunk.length - got, this.offset + got);
        if (n === 0) break;
        got += n;
      }
      chunk = chunk.subarray(0, got);
      this.offset += got;
    } finally {
      closeSync(fd);
    }
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let start = 0;
    for (let lf = data.indexOf(0x0a, start); lf !== -1; lf = data.indexOf(0x0a, start)) {
      const line = data.toString('utf8', start, lf);
      start = lf + 1;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (err) {
        throw new Error(`${this.file}: unparsable line ${JSON.stringify(line.slice(0, 200))}: ${String(err)}`);
      }
      if (!isRawRecord(parsed)) throw new Error(`${this.file}: unexpected record ${line.slice(0, 200)}`);
      into.push(toMessage(parsed));
    }
    // Copy, so the (possibly large) chunk buffer is not retained for a short tail.
    this.pending = Buffer.from(data.subarray(start));
  }
}

class Receiver implements RsyslogReceiver {
  readonly host = HOST;
  port: number;
  readonly caFile: string;
  readonly ca: string;
  private current: LiveChild | undefined;
  private currentPid = 0;
  private generation = 0;
  /** One output file per rsyslogd run, so a line torn by SIGKILL cannot merge with the next run's output. */
  private readonly tails: JsonlTail[] = [];
  private readonly received: ReceivedMessage[] = [];
  private readonly logFile: string;

  constructor(
    readonly dir: string,
    private readonly cert: ServerCert,
    port: number,
    private readonly startTimeoutMs: number,
  ) {
    this.port = port;
    this.caFile = cert.caFile;
    this.ca = cert.ca;
    this.logFile = join(dir, 'rsyslogd.log');
  }

  get pid(): number {
    return this.currentPid;
  }

  async start(): Promise<void> {
    const gen = this.generation++;
    const confFile = join(this.dir, `rsyslog.${gen}.conf`);
    const pidFile = join(this.dir, 'rsyslogd.pid');
    const portFile = join(this.dir, 'port');
    const outFile = join(this.dir, 'out', outputFileName(gen));
    mkdirSync(join(this.dir, 'work'), { recursive: true });
    mkdirSync(join(this.dir, 'out'), { recursive: true });
    rmSync(pidFile, { force: true });
    rmSync(portFile, { force: true });
    writeFileSync(
      confFile,
      renderConfig({ dir: this.dir, port: this.port, portFile, outFile, cert: this.cert }),
    );
    this.tails.push(new JsonlTail(outFile));

    const logStart = fileSize(this.logFile);
    const logFd = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      // -n: stay in the foreground, so the pid we hold is rsyslogd itself.
      child = spawn(findRsyslogd(), ['-n', '-f', confFile, '-i', pidFile], {
        stdio: ['ignore', logFd, logFd],
      });
    } finally {
      closeSync(logFd);
    }
    if (child.pid === undefined) {
      const [err] = (await once(child, 'error')) as [Error];
      throw new Error(`cannot start rsyslogd: ${err.message}`);
    }
    const pid = child.pid;
    // Not referenced: a forgotten receiver must not keep the test process
    // alive; the exit hook kills it instead.
    child.unref();
    const entry: LiveChild = { child, watchdog: startWatchdog(pid) };
    const { live } = registry();
    live.add(entry);
    child.once('exit', () => {
      live.delete(entry);
      if (entry.watchdog?.pid !== undefined) trySignal(entry.watchdog.pid, 'SIGKILL');
    });
    this.current = entry;
    this.currentPid = pid;

    const fail = async (why: string): Promise<never> => {
      await this.signalAndWait('SIGKILL');
      throw new Error(`rsyslogd ${why}; its log (${this.logFile}):\n${readFrom(this.logFile, logStart).slice(-4000)}`);
    };
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        return fail(`exited during start (${child.exitCode ?? child.signalCode})`);
      }
      // With port 0 the real port is only known from listenPortFileName
      // (rsyslogd writes it only in that case).
      const port = this.port !== 0 ? this.port : readPortFile(portFile);
      if (port !== undefined && isListeningBy(port, pid)) {
        // Config errors are logged before the listener opens.
        if (startupErrors(readFrom(this.logFile, logStart)).length > 0) return fail('reported errors during start');
        this.port = port;
        return;
      }
      if (BIND_FAILURE.test(readFrom(this.logFile, logStart))) {
        return fail(`could not listen on ${HOST}:${this.port}`);
      }
      if (Date.now() > deadline) return fail(`did not listen within ${this.startTimeoutMs} ms`);
      await sleep(5);
    }
  }

  async messages(): Promise<ReceivedMessage[]> {
    for (const t of this.tails) t.readNew(this.received);
    return this.received.slice();
  }

  async waitForCount(n: number, timeoutMs = 10_000): Promise<ReceivedMessage[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await this.messages();
      if (got.length >= n) return got;
      if (Date.now() > deadline) {
        throw new Error(`rsyslog receiver: ${got.length} of ${n} messages after ${timeoutMs} ms; log:\n${tail(this.logFile)}`);
      }
      await sleep(10);
    }
  }

  async stop(): Promise<void> {
    await this.signalAndWait('SIGTERM');
    receivers.delete(this);
  }

  async kill(): Promise<void> {
    await this.signalAndWait('SIGKILL');
    receivers.delete(this);
  }

  async restart(): Promise<void> {
    await this.signalAndWait('SIGTERM');
    // The port is now fixed: the next config names it, so clients reconnect to the same place.
    await this.start();
    receivers.add(this);
  }

  /** Sends `signal` and resolves on the child's 'exit' (it is our child, so exit means reaped, not a zombie). */
  private async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const entry = this.current;
    if (entry === undefined) return;
    const { child } = entry;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      // Referenced while we wait, or Node could exit with this promise pending.
      child.ref();
      child.kill(signal);
      const escalate = setTimeout(() => child.kill('SIGKILL'), 10_000);
      try {
        await exited;
      } finally {
        clearTimeout(escalate);
      }
    }
    this.current = undefined;
  }
}

function readPortFile(file: string): number | undefined {
  try {
    const port = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(port) && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The 'exit' hook does not run when the test process is SIGKILLed (e.g. a jest
 * worker killed on timeout). This tiny shell blocks reading a pipe from us;
 * when we die the pipe closes and it SIGKILLs rsyslogd. On a normal stop it is
 * killed itself.
 */
function startWatchdog(pid: number): ChildProcess | undefined {
  try {
    const dog = spawn('/bin/sh', ['-c', 'read _ignored; kill -KILL "$1" 2>/dev/null', 'rsyslog-watchdog', String(pid)], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    dog.on('error', () => undefined);
    dog.unref();
    (dog.stdin as Socket | null)?.unref();
    return dog;
  } catch {
    return undefined;
  }
}

export async function startRsyslogReceiver(options: RsyslogReceiverOptions = {}): Promise<RsyslogReceiver> {
  let dir: string;
  if (options.dir !== undefined) {
    dir = isAbsolute(options.dir) ? options.dir : resolve(options.dir);
    mkdirSync(dir, { recursive: true });
  } else {
    dir = mkdtempSync(join(tmpdir(), 'a0pt-rsyslog-'));
    registry().ownedDirs.add(dir);
    dirsOfThisFile.add(dir);
  }
  const cert = options.cert ?? createTestPki(join(dir, 'pki')).server;
  const receiver = new Receiver(dir, cert, options.port ?? 0, options.startTimeoutMs ?? 20_000);
  await receiver.start();
  receivers.add(receiver);
  return receiver;
}

/**
 * For afterAll hooks: SIGTERMs every receiver that is still running, waits for
 * them, and removes the directories this test file's receivers wrote. Removing
 * them here rather than in the process's exit hook keeps a jest worker's exit
 * quick: jest force-exits a worker that takes more than half a second.
 */
export async function stopAllReceivers(): Promise<void> {
  await Promise.all([...receivers].map((r) => r.stop()));
  if (process.env['RSYSLOG_RECEIVER_KEEP'] !== undefined) return;
  await Promise.all([...dirsOfThisFile].map(async (d) => {
    await rm(d, { recursive: true, force: true });
    dirsOfThisFile.delete(d);
    registry().ownedDirs.delete(d);
  }));
}
