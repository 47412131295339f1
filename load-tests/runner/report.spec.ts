import { fmt, meets, prependRun, ratio, renderTable } from './report';

describe('benchmark report', () => {
  it('formats numbers as people read them', () => {
    expect(fmt(12345.6, '/s')).toBe('12,346 /s');
    expect(fmt(12.345, 'ms')).toBe('12.3 ms');
    expect(fmt(0.4213)).toBe('0.42');
    expect(fmt(undefined)).toBe('n/a');
    expect(fmt(NaN, 's')).toBe('n/a');
  });

  it('prints ratios only when both sides are known', () => {
    expect(ratio(15000, 25000)).toBe('0.60x');
    expect(ratio(15000, undefined)).toBe('');
    expect(ratio(15000, 0)).toBe('');
  });

  it('judges a figure against its bound', () => {
    const target = { label: 'p99', kind: 'max' as const, value: 25, unit: 'ms' };
    expect(meets({ figure: 'p99', unit: 'ms', value: 24, target })).toBe(true);
    expect(meets({ figure: 'p99', unit: 'ms', value: 26, target })).toBe(false);
    expect(meets({ figure: 'p99', unit: 'ms', value: NaN, target })).toBe(false);
    expect(meets({ figure: 'x', unit: '', value: 1, met: false, target })).toBe(false);
    expect(meets({ figure: 'x', unit: '' })).toBeUndefined();
  });

  it('judges a ratio target on the figure over its floor', () => {
    const target = { label: 'r', kind: 'min' as const, value: 0.9, unit: 'x', ratio: true };
    expect(meets({ figure: 'r', unit: '/s', value: 9_000, floor: 10_000, target })).toBe(true);
    expect(meets({ figure: 'r', unit: '/s', value: 8_999, floor: 10_000, target })).toBe(false);
    expect(meets({ figure: 'r', unit: '/s', value: 9_000, target })).toBeUndefined();
    expect(meets({ figure: 'r', unit: '/s', value: NaN, floor: 10_000, target })).toBe(false);
    const max = { label: 't', kind: 'max' as const, value: 1.1, unit: 'x', ratio: true };
    expect(meets({ figure: 't', unit: 's', value: 5.5, floor: 5, target: max })).toBe(true);
    expect(meets({ figure: 't', unit: 's', value: 5.6, floor: 5, target: max })).toBe(false);
  });

  it('renders one aligned Markdown table', () => {
    const table = renderTable([
      {
        figure: 'grabs',
        unit: '/s',
        value: 15000,
        floor: 25000,
        ratio: true,
        target: { label: 'g', kind: 'min', value: 0.5, unit: 'x', ratio: true },
        generator: 'wrk 12%',
      },
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(3);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[2]).toContain('0.60x');
    expect(lines[2]).toContain('>= 0.50x');
    expect(lines[2]).toContain('wrk 12%');
    expect(lines[2]).toContain('yes');
  });

  it('puts the newest run first and keeps the earlier ones', () => {
    const first = prependRun(undefined, '## run 1\n\nA\n');
    const second = prependRun(first, '## run 2\n\nB\n');
    expect(second.indexOf('## run 2')).toBeLessThan(second.indexOf('## run 1'));
    expect(second.match(/# Benchmark results/g)).toHaveLength(1);
  });
});
