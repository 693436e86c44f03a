/** The Prometheus text format read back with a maintained parser, as typed families. */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface Sample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Sample[];
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = parsePrometheusTextFormat(text) as Family[];
  return new Map(families.map((f) => [f.name, f]));
}

/** The sum of a family's samples whose labels include `match`. */
export function total(families: Map<string, Family>, name: string, match: Record<string, string> = {}): number {
  const family = families.get(name);
  if (!family) throw new Error(`no metric family ${name}`);
  return family.metrics
    .filter((m) => Object.entries(match).every(([k, v]) => m.labels?.[k] === v))
    .reduce((sum, m) => sum + Number(m.value ?? m.count), 0);
}
