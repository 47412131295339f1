import { TargetSpec } from '../scenarios/scenario';

/** One line of the benchmark's table. Figures are numbers; absent ones print as "n/a". */
export interface Row {
  readonly figure: string;
  readonly unit: string;
  readonly value?: number;
  readonly target?: TargetSpec | string;
  readonly floor?: number;
  readonly naive?: number;
  /** Print value/floor and value/naive (throughputs); latencies print no ratio. */
  readonly ratios?: boolean;
  /** Whether the figure meets its target when the target is not a plain bound. */
  readonly met?: boolean;
  readonly note?: string;
  /** The 1-minute load average before and after the measurement (other work shows here). */
  readonly load?: readonly [number, number];
}

export interface Machine {
  readonly date: string;
  readonly commit: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly loadBefore: number;
}

/** Numbers as people read them: 12,345 / 12.3 / 0.42. */
export function fmt(value: number | undefined, unit = ''): string {
  if (value === undefined || Number.isNaN(value)) return 'n/a';
  const abs = Math.abs(value);
  const digits = abs >= 100 || Number.isInteger(value) ? 0 : abs >= 10 ? 1 : 2;
  const text = value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return unit ? `${text} ${unit}`.trim() : text;
}

export function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !b || Number.isNaN(a) || Number.isNaN(b)) return '';
  return `${(a / b).toFixed(2)}x`;
}

function targetText(target: Row['target']): string {
  if (target === undefined) return '';
  if (typeof target === 'string') return target;
  return `${target.kind === 'min' ? '>=' : '<='} ${fmt(target.value)} ${target.unit}`.trim();
}

/** Whether a row meets its target: an explicit `met` wins, else the bound of its TargetSpec. */
export function meets(row: Row): boolean | undefined {
  if (row.met !== undefined) return row.met;
  if (row.target === undefined || typeof row.target === 'string' || row.value === undefined) {
    return undefined;
  }
  if (Number.isNaN(row.value)) return false;
  return row.target.kind === 'min' ? row.value >= row.target.value : row.value <= row.target.value;
}

/** The one table `npm run bench` prints, in Markdown (it is also the report's body). */
export function renderTable(rows: readonly Row[]): string {
  const header = [
    'figure',
    'Flashdrop',
    'target',
    'floor',
    'naive',
    'vs floor',
    'vs naive',
    'met',
    'load 1m',
  ];
  const lines = rows.map((row) => {
    const ok = meets(row);
    return [
      row.figure + (row.note ? ` (${row.note})` : ''),
      fmt(row.value, row.unit),
      targetText(row.target),
      row.floor === undefined ? '' : fmt(row.floor, row.unit),
      row.naive === undefined ? '' : fmt(row.naive, row.unit),
      row.ratios ? ratio(row.value, row.floor) : '',
      row.ratios ? ratio(row.value, row.naive) : '',
      ok === undefined ? '' : ok ? 'yes' : 'NO',
      row.load ? `${row.load[0].toFixed(1)}-${row.load[1].toFixed(1)}` : '',
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...lines.map(line)].join('\n');
}

/** A run's section of load-tests/RESULTS.md: when, where, the table, and the notes. */
export function renderRun(
  machine: Machine,
  command: string,
  rows: readonly Row[],
  notes: readonly string[],
): string {
  return [
    `## ${machine.date} · commit ${machine.commit}`,
    '',
    `Machine: ${machine.cpus} cores (${machine.cpuModel}), ${fmt(machine.memoryGiB)} GiB memory, ` +
      `Node ${machine.node}; load average before the run: ${machine.loadBefore.toFixed(2)}. ` +
      `Command: \`${command}\`.`,
    '',
    renderTable(rows),
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}

const TITLE = '# Benchmark results';
const PREAMBLE =
  'Written by `npm run bench` (load-tests/README.md explains the runs); the newest run first. ' +
  'Every figure of one run is measured in that run, on the same machine, beside the floor and ' +
  'the naive peer.';

/** The new report: the newest run on top, earlier runs kept below it. */
export function prependRun(existing: string | undefined, section: string): string {
  const previous = existing?.includes(TITLE)
    ? existing.slice(existing.indexOf('\n## ') + 1).trimEnd()
    : '';
  const keepPrevious = previous.startsWith('## ') ? `\n${previous}\n` : '';
  return `${TITLE}\n\n${PREAMBLE}\n\n${section}${keepPrevious}`;
}
