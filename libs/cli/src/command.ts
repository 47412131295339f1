import { parseArgs } from 'node:util';

/** One flag of a command: `--name=value` or `--name value` (a boolean flag takes no value). */
export interface FlagSpec {
  readonly type: 'string' | 'integer' | 'boolean';
  readonly description: string;
  /** Shown in --help as the value's placeholder, e.g. `N`, `URL`, `ROLE`. */
  readonly value?: string;
  readonly choices?: readonly string[];
  /** Integers must be at least this (default 1). */
  readonly min?: number;
  readonly required?: boolean;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** What a command's flags parse to: strings, integers and booleans; absent ones undefined. */
export type Flags<S extends FlagSpecs> = {
  readonly [K in keyof S]: S[K]['type'] extends 'boolean'
    ? boolean
    : S[K]['type'] extends 'integer'
      ? number | undefined
      : string | undefined;
};

/** A command users run (`npm run <name> -- ...`): its help text is made from this. */
export interface CommandSpec<S extends FlagSpecs> {
  /** How it is run, e.g. `npm run token --`. */
  readonly usage: string;
  /** A few words for the list of commands. */
  readonly title: string;
  /** What it does, in full (wrapped for the terminal). */
  readonly summary: string;
  /** More lines of help, printed after the flags. */
  readonly details?: readonly string[];
  readonly flags: S;
  readonly examples?: readonly string[];
}

/** Declares a command (keeps each flag's type for `Flags`). */
export function defineCommand<S extends FlagSpecs>(spec: CommandSpec<S>): CommandSpec<S> {
  return spec;
}

/** A refused command line: the message, then where to find the help. */
export class UsageError extends Error {}

export function helpText<S extends FlagSpecs>(spec: CommandSpec<S>): string {
  const rows = Object.entries(spec.flags).map(([name, flag]) => {
    const value = flag.type === 'boolean' ? '' : `=${flag.value ?? flag.type.toUpperCase()}`;
    const choices = flag.choices ? ` (${flag.choices.join(' | ')})` : '';
    return [
      `--${name}${value}`,
      `${flag.description}${choices}${flag.required ? ' [required]' : ''}`,
    ];
  });
  rows.push(['-h, --help', 'this help']);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `usage: ${spec.usage} [flags]`,
    '',
    ...wrap(spec.summary),
    '',
    'flags:',
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`),
    ...(spec.details?.length ? ['', ...spec.details] : []),
    ...(spec.examples?.length ? ['', 'examples:', ...spec.examples.map((e) => `  ${e}`)] : []),
  ].join('\n');
}

/** Words into lines of at most `width` characters. */
export function wrap(text: string, width = 96): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * Parses a command line by the conventions users know: `--help` prints the help and answers
 * undefined; an unknown flag, a missing value, a value of the wrong kind or a stray argument
 * throws UsageError with a message saying which (nothing has run yet).
 */
export function parseFlags<S extends FlagSpecs>(
  spec: CommandSpec<S>,
  argv: readonly string[],
): Flags<S> | undefined {
  if (argv.includes('--help') || argv.includes('-h')) return undefined;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(
        Object.entries(spec.flags).map(([name, flag]) => [
          name,
          { type: flag.type === 'boolean' ? ('boolean' as const) : ('string' as const) },
        ]),
      ),
    });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  const out: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(spec.flags)) {
    const raw = parsed.values[name];
    if (flag.type === 'boolean') {
      out[name] = raw === true;
      continue;
    }
    if (raw === undefined) {
      if (flag.required) throw new UsageError(`--${name} is required`);
      out[name] = undefined;
      continue;
    }
    const value = String(raw);
    if (flag.choices && !flag.choices.includes(value)) {
      throw new UsageError(`--${name} must be one of ${flag.choices.join(', ')}, not "${value}"`);
    }
    if (flag.type === 'integer') {
      const n = Number(value);
      const min = flag.min ?? 1;
      if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
        throw new UsageError(`--${name} must be an integer of at least ${min}, not "${value}"`);
      }
      out[name] = n;
    } else {
      out[name] = value;
    }
  }
  return out as Flags<S>;
}

/**
 * Progress of long work on stderr, at most one line every `everyMs` (the last always): what a
 * user watches while a command runs, never mixed into what it prints on stdout.
 */
export class Progress {
  private lastAt = 0;

  constructor(
    private readonly what: string,
    private readonly total: number,
    private readonly everyMs = 2000,
  ) {}

  tick(done: number): void {
    const now = Date.now();
    if (done < this.total && now - this.lastAt < this.everyMs) return;
    this.lastAt = now;
    process.stderr.write(
      `${this.what}: ${done.toLocaleString('en-US')} of ${this.total.toLocaleString('en-US')}\n`,
    );
  }
}

/**
 * Runs a command: `--help` prints the help (exit 0); a refused command line prints why and how to
 * get help (exit 2) before anything ran; a failure prints its message (exit 1); otherwise the
 * exit code is what `main` answers (0 when nothing).
 */
export async function runCommand<S extends FlagSpecs>(
  spec: CommandSpec<S>,
  argv: readonly string[],
  main: (flags: Flags<S>) => Promise<number | void>,
): Promise<number> {
  let flags: Flags<S> | undefined;
  try {
    flags = parseFlags(spec, argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${spec.usage}: ${error.message}\nRun it with --help for its flags.\n`);
    return 2;
  }
  if (flags === undefined) {
    process.stdout.write(`${helpText(spec)}\n`);
    return 0;
  }
  // A caller that runs the command later (npm start's demo) checks its flags first, at once.
  if (process.env.FLASHDROP_CHECK_FLAGS === '1') return 0;
  try {
    return (await main(flags)) ?? 0;
  } catch (error) {
    process.stderr.write(
      `${spec.usage} failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
}
