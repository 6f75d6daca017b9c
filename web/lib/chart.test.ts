import { describe, expect, it } from 'vitest';
import { axisChoices, chartPoints, columnKind, detectChart, niceTicks, shortNumber, toTime } from './chart';

describe('chart shape detection', () => {
  it('draws categories with a measure as bars', () => {
    const spec = detectChart(['depot', 'vehicles'], [['North', 12], ['South', 8], ['East', 4]]);
    expect(spec).toEqual({ type: 'bar', x: 0, y: 1 });
  });

  it('draws a time series as a line, whatever the column order', () => {
    const rows = [[31, '2026-03-01'], [12, '2026-01-01'], [20, '2026-02-01']];
    const spec = detectChart(['breakdowns', 'month'], rows);
    expect(spec).toEqual({ type: 'line', x: 1, y: 0 });
    // sorted by time
    expect(chartPoints(rows, spec).map((p) => p.y)).toEqual([12, 20, 31]);
  });

  it('takes whole years as time only when the column says so', () => {
    expect(columnKind('year', [2019, 2020, 2021])).toBe('time');
    expect(columnKind('km', [2019, 2020, 2021])).toBe('number');
    expect(detectChart(['year', 'revenue'], [[2020, 5], [2021, 7]])).toEqual({ type: 'line', x: 0, y: 1 });
  });

  it('offers no chart for shapes that do not suit one', () => {
    expect(detectChart(['id', 'depot'], [['VH-1', 'North'], ['VH-2', 'South']]).type).toBe('none'); // no measure
    expect(detectChart(['depot', 'n'], [['North', 3]]).type).toBe('none'); // one row
    const many = Array.from({ length: 80 }, (_, i) => [`VH-${i}`, i]);
    expect(detectChart(['id', 'km'], many).type).toBe('none'); // too many bars
    expect(detectChart([], []).type).toBe('none');
  });

  it('reads numbers sent as strings (decimals), skips nulls, and lists the axes a reader may pick', () => {
    const rows = [['a', '1.5', null], ['b', '2', null]];
    expect(detectChart(['k', 'v', 'empty'], rows)).toEqual({ type: 'bar', x: 0, y: 1 });
    expect(axisChoices(['k', 'v', 'empty'], rows)).toEqual({ x: [0, 1], y: [1] });
    expect(chartPoints([['a', null], ['b', 3]], { type: 'bar', x: 0, y: 1 })).toEqual([{ label: 'b', x: 1, y: 3 }]);
  });

  it('changing the type keeps the rows: a bar chart over time keeps row order', () => {
    const rows = [['2026-02-01', 2], ['2026-01-01', 1]];
    expect(chartPoints(rows, { type: 'bar', x: 0, y: 1 }).map((p) => p.label)).toEqual(['2026-02-01', '2026-01-01']);
    expect(chartPoints(rows, { type: 'line', x: 0, y: 1 }).map((p) => p.label)).toEqual(['2026-01-01', '2026-02-01']);
  });

  it('parses dates and datetimes, not other strings', () => {
    expect(toTime('2026-03-01')).toBe(Date.UTC(2026, 2, 1));
    expect(toTime('2026-03')).toBe(Date.UTC(2026, 2, 1));
    expect(toTime('2026-03-01 10:00:00')).not.toBeNull();
    expect(toTime('North')).toBeNull();
    expect(toTime(5)).toBeNull();
  });

  it('makes round ticks that cover the data', () => {
    const t = niceTicks(0, 12, 4);
    expect(t[0]).toBe(0);
    expect(t[t.length - 1]).toBeGreaterThanOrEqual(12);
    expect(t.every((v, i) => i === 0 || v > t[i - 1]!)).toBe(true);
    expect(niceTicks(5, 5).length).toBeGreaterThan(1);
    expect(shortNumber(1_200_000)).toBe('1.2M');
    expect(shortNumber(2.5)).toBe('2.5');
  });
});
