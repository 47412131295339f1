import { TargetSpec } from '../scenarios/scenario';

/** One line of the benchmark's table. Figures are numbers; absent ones print as "n/a". */
export interface Row {
  readonly figure: string;
  readonly unit: string;
  readonly value?: number;
  /** What the figure is compared with: the floor of the same operation, same run, generator. */
  readonly floor?: number;
  /** The comparison column's label when it is not the floor (e.g. "API" for a CPU share). */
  readonly floorLabel?: string;
  /** Print value / floor. */
  readonly ratio?: boolean;
  readonly target?: TargetSpec | string;
  /** Whether the figure meets its target when that is more than its bound (explicit wins). */
  readonly met?: boolean;
  readonly note?: string;
  /** The load generator and its CPU share of the machine during the figure's runs. */
  readonly generator?: string;
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
  const bound = `${target.kind === 'min' ? '>=' : '<='} ${fmt(target.value)}`;
  return target.ratio ? `${bound}x` : `${bound} ${target.unit}`.trim();
}

/**
 * Whether a row meets its target: an explicit `met` wins, else the bound of its TargetSpec, on
 * value / floor for a ratio target. Undefined when there is no target or nothing to judge.
 */
export function meets(row: Row): boolean | undefined {
  if (row.met !== undefined) return row.met;
  if (row.target === undefined || typeof row.target === 'string' || row.value === undefined) {
    return undefined;
  }
  const figure = row.target.ratio ? ratioOf(row.value, row.floor) : row.value;
  if (figure === undefined) return undefined;
  if (Number.isNaN(figure)) return false;
  return row.target.kind === 'min' ? figure >= row.target.value : figure <= row.target.value;
}

/** value / floor; undefined when the floor is not known, NaN when the value is not a number. */
export function ratioOf(value: number | undefined, floor: number | undefined): number | undefined {
  if (value === undefined || floor === undefined || Number.isNaN(floor) || !floor) return undefined;
  return value / floor;
}

/** The one table `npm run bench` prints, in Markdown (it is also the report's body). */
export function renderTable(rows: readonly Row[]): string {
  const header = [
    'figure',
    'Flashdrop',
    'floor',
    'ratio',
    'target',
    'met',
    'generator (CPU)',
    'load 1m',
  ];
  const lines = rows.map((row) => {
    const ok = meets(row);
    const floor = row.floor === undefined ? '' : fmt(row.floor, row.unit);
    return [
      row.figure + (row.note ? ` (${row.note})` : ''),
      fmt(row.value, row.unit),
      row.floorLabel && floor ? `${row.floorLabel} ${floor}` : floor,
      row.ratio ? ratio(row.value, row.floor) : '',
      targetText(row.target),
      ok === undefined ? '' : ok ? 'yes' : 'NO',
      row.generator ?? '',
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
  /** Further sections (Markdown), e.g. the steady run's latency breakdown. */
  extra: readonly string[] = [],
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
    ...extra.flatMap((section) => [section, '']),
  ].join('\n');
}

const TITLE = '# Benchmark results';
const PREAMBLE =
  'Written by `npm run bench` (load-tests/README.md explains the runs); the newest run first. ' +
  'Every figure of one run is measured in that run, on the same machine, with the same load ' +
  'generator as the floor of its operation; the targets are the ratios.';

/** The new report: the newest run on top, earlier runs kept below it. */
export function prependRun(existing: string | undefined, section: string): string {
  const previous = existing?.includes(TITLE)
    ? existing.slice(existing.indexOf('\n## ') + 1).trimEnd()
    : '';
  const keepPrevious = previous.startsWith('## ') ? `\n${previous}\n` : '';
  return `${TITLE}\n\n${PREAMBLE}\n\n${section}${keepPrevious}`;
}
