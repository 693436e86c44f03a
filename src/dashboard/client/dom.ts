/**
 * Building the page. Every value is set as text (textContent, attribute
 * values), never parsed as markup: log events and error messages may hold
 * anything, and must show as what they are.
 */
type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | null | undefined>;

function apply(node: Element, attributes: Attributes): void {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
}

function append(node: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  apply(node, attributes);
  append(node, children);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  apply(node, attributes);
  append(node, children);
  return node;
}

export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

const UTC_FORMAT = (iso: string): string => `${iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')} UTC`;

/** A time in the viewer's time zone, with the UTC time on hover. */
export function time(iso: string | null | undefined, options: Intl.DateTimeFormatOptions = { dateStyle: 'medium', timeStyle: 'medium' }): Node {
  if (!iso) return h('span', { class: 'muted' }, 'never');
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h('span', {}, iso);
  return h('time', { datetime: date.toISOString(), title: UTC_FORMAT(date.toISOString()) }, date.toLocaleString(undefined, options));
}

/** A compact time for the cards: the time alone today, no year this year. UTC on hover. */
export function when(iso: string | null | undefined, now = new Date()): Node {
  if (!iso) return time(iso);
  const date = new Date(iso);
  const sameDay = date.toDateString() === now.toDateString();
  const options: Intl.DateTimeFormatOptions = sameDay
    ? { hour: '2-digit', minute: '2-digit' }
    : date.getFullYear() === now.getFullYear()
      ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }
      : { dateStyle: 'medium', timeStyle: 'short' };
  return time(iso, options);
}

/** "4 s", "3 min 20 s", "2 h 5 min", "3 d 4 h". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 === 0 || s >= 600 ? `${Math.round(s / 60)} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) {
    const m = Math.round((s % 3600) / 60);
    return m === 0 || m === 60 ? `${Math.round(s / 3600)} h` : `${Math.floor(s / 3600)} h ${m} min`;
  }
  const hours = Math.round((s % 86_400) / 3600);
  return hours === 0 || hours === 24 ? `${Math.round(s / 86_400)} d` : `${Math.floor(s / 86_400)} d ${hours} h`;
}

/** A run's duration: milliseconds below a second, then as `duration`. */
export function runDuration(ms: number): string {
  return ms < 1000 ? `${Math.max(0, Math.round(ms))} ms` : ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : duration(ms / 1000);
}

export function count(n: number): string {
  return n.toLocaleString();
}

/** "3 minutes ago"-style text for a past ISO time. */
export function ago(iso: string, now: number): string {
  const seconds = (now - Date.parse(iso)) / 1000;
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 0) return `in ${duration(-seconds)}`;
  return seconds < 5 ? 'just now' : `${duration(seconds)} ago`;
}
