/**
 * What the receiver got, measured against what the tenant holds. Small
 * drains use test/support/delivery.ts on the parsed messages; the memory
 * drains (up to a million events, gigabytes of receiver output) are tallied
 * by streaming the output files instead of holding them in memory.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { DeliveryFigures } from '../../support/delivery';
import { compareIds, type TenantEvent } from '../../support/events';
import type { FakeTenant } from '../../support/fake-tenant';
import { logIdOfRecord, outputFilesIn, type ReceivedMessage } from '../../support/rsyslog-receiver';

export function eventsOf(tenant: FakeTenant): TenantEvent[] {
  return Array.from({ length: tenant.size() }, (_, i) => tenant.eventAt(i));
}

/** The log_id carried in a message's JSON, or undefined for a message that is not one of ours. */
export function logIdOf(message: ReceivedMessage): string | undefined {
  try {
    const parsed = JSON.parse(message.msg) as { log_id?: unknown };
    return typeof parsed.log_id === 'string' ? parsed.log_id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Events after `checkpoint` that the receiver already has: what the next run
 * will ship again. Counted once each: copies left by earlier kills at the same
 * checkpoint are not a further lag of the checkpoint.
 */
export function countBeyond(received: readonly ReceivedMessage[], checkpoint: string | null): number {
  const beyond = new Set<string>();
  for (const m of received) {
    const id = logIdOf(m);
    if (id !== undefined && (checkpoint === null || compareIds(id, checkpoint) > 0)) beyond.add(id);
  }
  return beyond.size;
}

/** Of `ids` (in log_id order), those at or before `checkpoint` that no message carries. */
export function countLostUpTo(ids: readonly string[], checkpoint: string | null, received: readonly ReceivedMessage[]): number {
  if (checkpoint === null) return 0;
  const got = new Set<string>();
  for (const m of received) {
    const id = logIdOf(m);
    if (id !== undefined) got.add(id);
  }
  let lost = 0;
  for (const id of ids) {
    if (compareIds(id, checkpoint) > 0) break;
    if (!got.has(id)) lost++;
  }
  return lost;
}

/** The columns of the figures table that come from a delivery check. */
export function deliveryColumns(figures: DeliveryFigures): { expected: number; delivered: number; missing: number; duplicates: number } {
  return { expected: figures.expected, delivered: figures.delivered, missing: figures.missing, duplicates: figures.duplicates };
}

export interface StreamedTally {
  expected: number;
  delivered: number;
  missing: number;
  duplicates: number;
  /** Lines that are not a message of the tenant's (unparsable, or an id the tenant never had). */
  malformed: number;
  lines: number;
}

/**
 * Streams the receiver's output files and compares them with the tenant's
 * ids in order. Valid for a drain without faults, which the exporter ships
 * in log_id order: an id behind the expected one is counted as a duplicate,
 * an id ahead of it counts the ids skipped as missing.
 */
export async function tallyOutput(receiverDir: string, tenant: FakeTenant): Promise<StreamedTally> {
  const size = tenant.size();
  const tally: StreamedTally = { expected: size, delivered: 0, missing: 0, duplicates: 0, malformed: 0, lines: 0 };
  let next = 0;
  for (const file of outputFilesIn(join(receiverDir, 'out'))) {
    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of lines) {
      tally.lines++;
      const id = logIdOfRecord(line);
      if (id === undefined) {
        tally.malformed++;
        continue;
      }
      while (next < size && compareIds(tenant.idAt(next), id) < 0) {
        tally.missing++;
        next++;
      }
      if (next < size && tenant.idAt(next) === id) {
        tally.delivered++;
        next++;
      } else if (next > 0 && compareIds(id, tenant.idAt(next - 1)) <= 0) {
        tally.duplicates++;
      } else {
        tally.malformed++;
      }
    }
  }
  tally.missing += size - next;
  return tally;
}
