'use client';

import { useEffect, useMemo, useRef, useState } from 'react';
import { axisChoices, chartPoints, columnKinds, detectChart, niceTicks, shortNumber, type ChartSpec, type ChartType } from '@/lib/chart';

const PAD = { top: 12, right: 12, bottom: 48, left: 52 };

/** The width of an element in CSS pixels, followed as it changes (so the chart's text keeps its size). */
function useWidth(fallback: number): [React.RefObject<HTMLElement | null>, number] {
  const ref = useRef<HTMLElement | null>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(([entry]) => {
      const w = Math.round(entry?.contentRect.width ?? 0);
      if (w > 0) setWidth(w);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

function clip(text: string, n = 14): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

/**
 * An SVG chart of a result table: the type (line, bar, none) and the axes come from the shape of
 * the rows and can be changed here; that re-reads the rows the page has, it runs nothing.
 */
export function Chart({ id, columns, rows }: { id: string; columns: string[]; rows: unknown[][] }) {
  const auto = useMemo(() => detectChart(columns, rows), [columns, rows]);
  const [spec, setSpec] = useState<ChartSpec>(auto);
  const choices = useMemo(() => axisChoices(columns, rows), [columns, rows]);
  const kinds = useMemo(() => columnKinds(columns, rows), [columns, rows]);
  const [box, measured] = useWidth(640);
  const W = Math.max(260, Math.min(1000, measured));
  const H = W < 500 ? 220 : 260;
  const points = useMemo(() => (spec.type === 'none' ? [] : chartPoints(rows, spec, kinds)), [rows, spec, kinds]);
  if (!choices.y.length || columns.length < 2) return null; // nothing to measure: no chart to offer

  const set = (patch: Partial<ChartSpec>) => setSpec((s) => ({ ...s, ...patch }));
  const ys = points.map((p) => p.y);
  const ticks = niceTicks(Math.min(0, ...ys), Math.max(0, ...ys), 4);
  const lo = ticks[0]!;
  const hi = ticks[ticks.length - 1]!;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const yAt = (v: number) => PAD.top + plotH - ((v - lo) / (hi - lo || 1)) * plotH;
  const xs = points.map((p) => p.x);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  // bars, and lines over categories, sit in the middle of equal bands; a line over time is to scale
  const banded = spec.type === 'bar' || kinds[spec.x] !== 'time';
  const inset = 16;
  const xAt = (i: number) =>
    banded
      ? PAD.left + (plotW / points.length) * (i + 0.5)
      : PAD.left + inset + (xMax === xMin ? (plotW - 2 * inset) / 2 : ((points[i]!.x - xMin) / (xMax - xMin)) * (plotW - 2 * inset));
  const labelX = (i: number) => Math.min(W - PAD.right - 28, Math.max(PAD.left + 28, xAt(i)));
  // x labels left to right, each at least a label's width from the one before (points may bunch up in time)
  const labelled = new Set<number>();
  const gap = 10 + 6.8 * Math.max(1, ...points.map((p) => clip(p.label).length)); // 12px text: ~6.8px a character
  let lastX = -Infinity;
  points.forEach((_, i) => {
    const x = labelX(i);
    if (x - lastX >= gap) {
      labelled.add(i);
      lastX = x;
    }
  });
  const barW = Math.max(2, (plotW / Math.max(1, points.length)) * 0.7);
  const title = `${columns[spec.y]} by ${columns[spec.x]}`;

  return (
    <figure className="chart" data-chart={spec.type} aria-labelledby={`${id}-cap`} ref={box}>
      <figcaption id={`${id}-cap`} className="chart-controls">
        <label>
          Chart{' '}
          <select value={spec.type} onChange={(e) => set({ type: e.target.value as ChartType })} aria-label="Chart type">
            <option value="bar">bar</option>
            <option value="line">line</option>
            <option value="none">none</option>
          </select>
        </label>
        {spec.type !== 'none' ? (
          <>
            <label>
              x{' '}
              <select value={spec.x} onChange={(e) => set({ x: Number(e.target.value) })} aria-label="X axis">
                {choices.x.map((i) => (
                  <option key={i} value={i}>
                    {columns[i]}
                  </option>
                ))}
              </select>
            </label>
            <label>
              y{' '}
              <select value={spec.y} onChange={(e) => set({ y: Number(e.target.value) })} aria-label="Y axis">
                {choices.y.map((i) => (
                  <option key={i} value={i}>
                    {columns[i]}
                  </option>
                ))}
              </select>
            </label>
            {auto.type !== 'none' && (auto.type !== spec.type || auto.x !== spec.x || auto.y !== spec.y) ? (
              <button type="button" className="link" onClick={() => setSpec(auto)}>
                Reset
              </button>
            ) : null}
          </>
        ) : auto.type === 'none' ? (
          <span className="muted small"> the rows do not look like a time series or categories with a measure</span>
        ) : null}
      </figcaption>
      {spec.type !== 'none' && points.length ? (
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${spec.type} chart of ${title}, ${points.length} points`} className="chart-svg">
          <title>{title}</title>
          {ticks.map((t) => (
            <g key={t} className="tick">
              <line x1={PAD.left} x2={W - PAD.right} y1={yAt(t)} y2={yAt(t)} />
              <text x={PAD.left - 6} y={yAt(t)} dy="0.32em" textAnchor="end">
                {shortNumber(t)}
              </text>
            </g>
          ))}
          <line className="axis" x1={PAD.left} x2={W - PAD.right} y1={yAt(Math.max(lo, 0))} y2={yAt(Math.max(lo, 0))} />
          {spec.type === 'bar'
            ? points.map((p, i) => (
                <rect key={i} className="bar" x={xAt(i) - barW / 2} width={barW} y={Math.min(yAt(p.y), yAt(0))} height={Math.abs(yAt(0) - yAt(p.y))}>
                  <title>{`${p.label}: ${p.y}`}</title>
                </rect>
              ))
            : (
                <>
                  <polyline className="line" fill="none" points={points.map((p, i) => `${xAt(i)},${yAt(p.y)}`).join(' ')} />
                  {points.map((p, i) => (
                    <circle key={i} className="dot" cx={xAt(i)} cy={yAt(p.y)} r={points.length > 60 ? 1.5 : 3}>
                      <title>{`${p.label}: ${p.y}`}</title>
                    </circle>
                  ))}
                </>
              )}
          {points.map((p, i) =>
            labelled.has(i) ? (
              <text key={`l${i}`} className="xlabel" x={labelX(i)} y={H - PAD.bottom + 16} textAnchor="middle">
                {clip(p.label)}
              </text>
            ) : null,
          )}
          <text className="axis-name" x={PAD.left + plotW / 2} y={H - 6} textAnchor="middle">
            {columns[spec.x]}
          </text>
        </svg>
      ) : spec.type !== 'none' ? (
        <p className="muted small">No numbers in {columns[spec.y]} to draw.</p>
      ) : null}
    </figure>
  );
}
