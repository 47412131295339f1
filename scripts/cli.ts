/**
 * The commands users run, in one bundle (dist/scripts/cli.js, built by npm run build):
 * `node dist/scripts/cli.js <command> [flags]`, or `npm run <command> -- [flags]` (which builds
 * the bundle first when it is missing: scripts/command.sh). Each command answers --help.
 */
import { CommandSpec, FlagSpecs, runCommand } from '@flashdrop/cli';
import { audit, auditCommand } from './commands/audit';
import { demo, demoCommand } from './commands/demo';
import { migrate, migrateCommand } from './commands/migrate';
import { token, tokenCommand } from './commands/token';
import { verifyDrawCli, verifyDrawCommand } from './commands/verify-draw';

interface Command {
  readonly spec: CommandSpec<FlagSpecs>;
  readonly run: (flags: never) => Promise<number | void>;
}

const COMMANDS: Record<string, Command> = {
  audit: { spec: auditCommand, run: audit },
  demo: { spec: demoCommand, run: demo },
  migrate: { spec: migrateCommand, run: migrate },
  token: { spec: tokenCommand, run: token },
  'verify-draw': { spec: verifyDrawCommand, run: verifyDrawCli },
};

function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    'usage: npm run <command> -- [flags]   (node dist/scripts/cli.js <command> [flags])',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.spec.title}`),
    '',
    'Each command answers --help. npm start, npm stop, npm test and npm run bench do too.',
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(`${overview()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`no command "${name}"\n\n${overview()}\n`);
    return 2;
  }
  return runCommand(command.spec, rest, command.run as (flags: unknown) => Promise<number | void>);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
