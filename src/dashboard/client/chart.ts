/**
 * The run-history chart, drawn as SVG in the browser: one point per run,
 * oldest on the left. Bars are the logs each run exported (left axis); the
 * line is the lag after each run (right axis); failed runs are red and marked
 * with a cross, so a failure that exported nothing still shows.
 */
import type { Run } from './api';
import { count, duration, h, svg } from './dom';

const HEIGHT = 220;
const MARGIN = { top: 14, right: 64, bottom: 26, left: 52 };
/** Round lag-axis tops, in seconds: halves of them read well too (30 s, 5 min, 30 min, 1 h, 12 h…). */
const LAG_STEPS = [10, 20, 60, 120, 300, 600, 1200, 1800, 3600, 5400, 7200, 14_400, 21_600, 43_200, 86_400, 172_800, 604_800, 1_209_600, 2_592_000];

/** A round upper bound for an axis: 1, 2, 2.5, 5 × 10^n. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * power >= value) ?? 10;
  return step * power;
}

/** Axis labels: one unit, short ("45 min", "1.5 h", "2 d"). */
function axisDuration(seconds: number): string {
  const round = (n: number): string => String(Math.round(n * 10) / 10);
  if (seconds < 60) return `${round(seconds)} s`;
  if (seconds < 3600) return `${round(seconds / 60)} min`;
  if (seconds < 86_400) return `${round(seconds / 3600)} h`;
  return `${round(seconds / 86_400)} d`;
}

function shortTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function renderChart(container: HTMLElement, newestFirst: Run[]): void {
  const runs = newestFirst.filter((r) => r.trigger !== 'reset').reverse();
  if (runs.length === 0) {
    container.replaceChildren(h('p', { class: 'empty' }, 'No runs yet. The first run will show here.'));
    return;
  }
  const width = Math.max(300, Math.floor(container.clientWidth || 800));
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const exportedMax = niceMax(Math.max(...runs.map((r) => r.exported)));
  const lags = runs.map((r) => (typeof r.lagSeconds === 'number' ? r.lagSeconds : null));
  const worstLag = Math.max(0, ...lags.filter((l): l is number => l !== null));
  // A little headroom, so a steady lag does not run along the top edge.
  const lagMax = LAG_STEPS.find((step) => step >= worstLag * 1.1) ?? niceMax(worstLag * 1.1);
  const band = plotW / runs.length;
  const barW = Math.max(2, Math.min(28, band * 0.6));
  const x = (i: number): number => MARGIN.left + band * i + band / 2;
  const yExported = (n: number): number => MARGIN.top + plotH - (n / exportedMax) * plotH;
  const yLag = (s: number): number => MARGIN.top + plotH - (s / lagMax) * plotH;

  const failed = runs.filter((r) => r.status !== 'ok').length;
  const chart = svg('svg', {
    class: 'chart-svg',
    width,
    height: HEIGHT,
    viewBox: `0 0 ${width} ${HEIGHT}`,
    role: 'img',
    'aria-label': `${runs.length} runs, ${failed} failed; up to ${count(Math.max(...runs.map((r) => r.exported)))} logs exported in one run.`,
  });

  // Grid and axes.
  for (const fraction of [0, 0.5, 1]) {
    const y = MARGIN.top + plotH - fraction * plotH;
    chart.appendChild(svg('line', { class: 'grid', x1: MARGIN.left, x2: width - MARGIN.right, y1: y, y2: y }));
    chart.appendChild(svg('text', { class: 'axis axis-left', x: MARGIN.left - 8, y: y + 4, 'text-anchor': 'end' }, count(exportedMax * fraction)));
    chart.appendChild(svg('text', { class: 'axis axis-right', x: width - MARGIN.right + 8, y: y + 4, 'text-anchor': 'start' }, axisDuration(lagMax * fraction)));
  }
  const first = runs[0];
  const last = runs[runs.length - 1];
  if (first) chart.appendChild(svg('text', { class: 'axis', x: MARGIN.left, y: HEIGHT - 6, 'text-anchor': 'start' }, shortTime(first.startedAt)));
  if (last && runs.length > 1) chart.appendChild(svg('text', { class: 'axis', x: width - MARGIN.right, y: HEIGHT - 6, 'text-anchor': 'end' }, shortTime(last.startedAt)));

  // The lag line, under the points so each dot sits on top of it.
  const linePoints = lags.map((lag, i) => (lag === null ? null : `${x(i).toFixed(1)},${yLag(lag).toFixed(1)}`)).filter((p): p is string => p !== null);
  if (linePoints.length > 1) chart.appendChild(svg('polyline', { class: 'lag-line', points: linePoints.join(' ') }));

  runs.forEach((run, i) => {
    const ok = run.status === 'ok';
    const cx = x(i);
    const top = yExported(run.exported);
    const base = MARGIN.top + plotH;
    const lag = lags[i] ?? null;
    const point = svg('g', { class: `point ${ok ? 'point-ok' : 'point-failed'}`, 'data-run': run.id, 'data-exported': run.exported, 'data-status': run.status },
      svg('title', {}, `${new Date(run.startedAt).toLocaleString()}: ${run.status}, ${count(run.exported)} exported${lag === null ? '' : `, lag ${duration(lag)}`}${run.error ? `, ${run.error.code}` : ''}`),
      // A full-height hit area, so the tooltip shows anywhere in the run's column.
      svg('rect', { class: 'hit', x: cx - band / 2, y: MARGIN.top, width: band, height: plotH }),
      svg('rect', { class: 'bar', x: cx - barW / 2, y: Math.min(top, base - (run.exported > 0 ? 1 : 0)), width: barW, height: Math.max(run.exported > 0 ? 1 : 0, base - top), rx: Math.min(3, barW / 4) }),
    );
    if (!ok) {
      const s = Math.min(6, Math.max(3, band / 3));
      point.appendChild(svg('path', { class: 'fail-mark', d: `M${cx - s},${base - 4 - 2 * s} l${2 * s},${2 * s} m0,${-2 * s} l${-2 * s},${2 * s}` }));
    }
    // Dots only where they do not crowd each other; the line carries the lag anyway.
    if (lag !== null && band >= 9) point.appendChild(svg('circle', { class: 'lag-dot', cx, cy: yLag(lag), r: Math.min(3.5, band / 4) }));
    chart.appendChild(point);
  });
  container.replaceChildren(chart);
}
