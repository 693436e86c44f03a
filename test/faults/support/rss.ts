/**
 * Peak resident memory of another process, from Linux's /proc/<pid>/status.
 * VmHWM is the kernel's own high-water mark, so sampling can only miss
 * growth in the last interval before the process exits, never a spike
 * between two samples.
 */
import { readFileSync } from 'node:fs';

function vmHwmKb(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]);
  } catch {
    // Gone (or a zombie, which has no memory figures left).
    return undefined;
  }
}

export function watchPeakRss(pid: number, everyMs = 20): { stop(): { peakKb: number; samples: number } } {
  let peakKb = 0;
  let samples = 0;
  const sample = (): void => {
    const kb = vmHwmKb(pid);
    if (kb === undefined) return;
    samples++;
    peakKb = Math.max(peakKb, kb);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return { peakKb, samples };
    },
  };
}
