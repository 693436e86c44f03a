/**
 * Scenario "sink vs raw", one measurement: ships pre-formatted lines to the
 * receiver either through the product's TlsSyslogSink (pages sent one after
 * another, as the run loop does) or as a raw write loop on one connection,
 * and times until the receiver has written every line.
 */
import { TlsSyslogSink } from '../../src/papertrail/tls-syslog-sink';
import { formattedLines } from '../lib/lines';
import { LineCounter } from '../lib/output-lines';
import { RawTlsWriter } from '../lib/raw-tls';
import { workerMain } from '../lib/worker';

export interface ShipLinesInput {
  mode: 'sink' | 'raw';
  lines: number;
  pageSize: number;
  port: number;
  outDir: string;
}

export interface ShipLinesOutput {
  lines: number;
  bytes: number;
  /** Pages sent: the sink opens one confirmed connection per page; raw writes them all on one. */
  pages: number;
  /** Until the sender saw its last page confirmed (sink) or its connection closed (raw). */
  sentMs: number;
  /** Until the receiver's output held every line. */
  receivedMs: number;
  /** This process's CPU over the timed section, µs. */
  cpuMicros: number;
}

const HOST = '127.0.0.1';

function pagesOf(lines: readonly string[], size: number): string[][] {
  const pages: string[][] = [];
  for (let i = 0; i < lines.length; i += size) pages.push(lines.slice(i, i + size));
  return pages;
}

async function viaSink(pages: readonly string[][], port: number): Promise<void> {
  const sink = new TlsSyslogSink({ host: HOST, port });
  try {
    for (const page of pages) await sink.send(page);
  } finally {
    await sink.close();
  }
}

async function viaRawConnection(pages: readonly string[][], port: number): Promise<void> {
  const writer = await RawTlsWriter.connect(HOST, port);
  try {
    // Joined per page, as the sink does, so both pay the same string work.
    for (const page of pages) await writer.write(`${page.join('\n')}\n`);
    await writer.end();
  } finally {
    writer.destroy();
  }
}

async function main(input: ShipLinesInput): Promise<ShipLinesOutput> {
  const lines = formattedLines(input.lines);
  const pages = pagesOf(lines, input.pageSize);
  const bytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
  const counter = new LineCounter(input.outDir);

  const cpu = process.cpuUsage();
  const started = performance.now();
  if (input.mode === 'sink') await viaSink(pages, input.port);
  else await viaRawConnection(pages, input.port);
  const sentMs = performance.now() - started;
  await counter.waitFor(lines.length, 60_000);
  const receivedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { lines: lines.length, bytes, pages: pages.length, sentMs, receivedMs, cpuMicros: used.user + used.system };
}

workerMain(main);
