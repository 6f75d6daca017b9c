// Which chart suits a result table, and the numbers a hand-drawn SVG chart needs. Pure.
//
// A time column and a measure make a line; a category and a measure make bars; anything else
// gets no chart unless the reader picks one. The type and the axes can be changed without
// running the query again: they only re-read the rows the page already has.

export type ChartType = 'line' | 'bar' | 'none';
export type ColumnKind = 'time' | 'number' | 'category' | 'empty';

export interface ChartSpec {
  type: ChartType;
  x: number; // column index
  y: number; // column index
}

export interface Point {
  label: string; // the x value as shown
  x: number; // position: a time (ms) for a line over time, else the row's index
  y: number;
}

const ISO_DATE = /^\d{4}-\d{2}(-\d{2})?([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const TIME_NAME = /(^|_)(date|day|week|month|year|time|ts|timestamp|period|quarter|at)$/i;
const MAX_BARS = 40;

function isNumber(v: unknown): boolean {
  return typeof v === 'number' ? Number.isFinite(v) : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) && !ISO_DATE.test(v.trim());
}

export function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && isNumber(v)) return Number(v);
  return null;
}

/** Milliseconds since the epoch for a date, datetime or a year-month, else null. */
export function toTime(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const s = v.trim();
  if (!ISO_DATE.test(s)) return null;
  const t = Date.parse(s.length === 7 ? `${s}-01T00:00:00Z` : s.length === 10 ? `${s}T00:00:00Z` : s.replace(' ', 'T'));
  return Number.isNaN(t) ? null : t;
}

/** What a column holds, judged from its non-null values (and, for whole years, its name). */
export function columnKind(name: string, values: readonly unknown[]): ColumnKind {
  const present = values.filter((v) => v !== null && v !== undefined && v !== '');
  if (!present.length) return 'empty';
  if (present.every((v) => toTime(v) !== null)) return 'time';
  if (present.every(isNumber)) {
    // whole numbers named year (2019, 2020, ...) are a time axis, not a measure
    const years = present.every((v) => Number.isInteger(Number(v)) && Number(v) >= 1800 && Number(v) <= 2200);
    return years && TIME_NAME.test(name) ? 'time' : 'number';
  }
  return 'category';
}

export function columnKinds(columns: readonly string[], rows: readonly (readonly unknown[])[]): ColumnKind[] {
  return columns.map((c, i) => columnKind(c, rows.map((r) => r[i])));
}

/** The chart that suits the table, or type 'none' (with the best axes for a reader who asks for one). */
export function detectChart(columns: readonly string[], rows: readonly (readonly unknown[])[]): ChartSpec {
  const kinds = columnKinds(columns, rows);
  const measures = kinds.flatMap((k, i) => (k === 'number' ? [i] : []));
  const time = kinds.indexOf('time');
  const category = kinds.indexOf('category');
  // a measure: the last numeric column that is not the x axis (ids and counts come last in most SELECTs)
  const measureFor = (x: number): number | undefined => [...measures].reverse().find((i) => i !== x);
  if (rows.length >= 2 && time >= 0) {
    const y = measureFor(time);
    if (y !== undefined) return { type: 'line', x: time, y };
  }
  if (rows.length >= 2 && rows.length <= MAX_BARS && category >= 0) {
    const y = measureFor(category);
    if (y !== undefined) return { type: 'bar', x: category, y };
  }
  // no chart by default; still offer sensible axes
  const x = time >= 0 ? time : category >= 0 ? category : 0;
  const y = measureFor(x) ?? measures[0] ?? Math.min(1, columns.length - 1);
  return { type: 'none', x, y };
}

/** The columns a reader may put on each axis. */
export function axisChoices(columns: readonly string[], rows: readonly (readonly unknown[])[]): { x: number[]; y: number[] } {
  const kinds = columnKinds(columns, rows);
  return {
    x: kinds.flatMap((k, i) => (k === 'empty' ? [] : [i])),
    y: kinds.flatMap((k, i) => (k === 'number' ? [i] : [])),
  };
}

function label(v: unknown): string {
  if (v === null || v === undefined) return '∅';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** The points of a chart: a line over time is sorted by time; otherwise rows keep their order. Rows without a number are left out. */
export function chartPoints(rows: readonly (readonly unknown[])[], spec: ChartSpec, kinds?: readonly ColumnKind[]): Point[] {
  const overTime = kinds ? kinds[spec.x] === 'time' : rows.every((r) => toTime(r[spec.x]) !== null);
  const pts: Point[] = [];
  rows.forEach((r, i) => {
    const y = toNumber(r[spec.y]);
    if (y === null) return;
    const xv = r[spec.x];
    const t = overTime ? toTime(xv) ?? toNumber(xv) : null;
    pts.push({ label: label(xv), x: t ?? i, y });
  });
  if (spec.type === 'line' && overTime) pts.sort((a, b) => a.x - b.x);
  return pts;
}

/** Round tick values covering [min, max] (about `count` of them), always including 0 for bars. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const first = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let v = first; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

/** A tick value as a short label: 1200000 -> 1.2M. */
export function shortNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toFixed(1)}B`;
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  return String(+v.toFixed(2));
}
