declare module 'parse-prometheus-text-format' {
  /** Families as prom2json renders them. */
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
