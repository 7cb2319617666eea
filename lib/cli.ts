#!/usr/bin/env node
/**
 * The `spillway` command line. Each command is a small module under lib/commands/ registered
 * below; `spillway --help` lists them.
 */
import { terminalSafe } from './terminal-text.ts';
import { readFileSync } from 'node:fs';
import { SpillwayError } from './errors.ts';

/** A command of the `spillway` CLI. */
export interface CliCommand {
  /** One line for `spillway --help`. */
  summary: string;
  /** Full usage text for `spillway COMMAND --help`. */
  usage: string;
  /** Runs the command; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

/** Commands by name; later issues add convert, inspect, replay, worker and run. */
export const commands = new Map<string, CliCommand>();

function version(): string {
  // lib/cli.ts in a checkout, dist/lib/cli.js in the package: package.json is two or three levels up
  for (const relative of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'spillway' && pkg.version) return pkg.version;
    } catch {
      // try the next level
    }
  }
  return 'unknown';
}

function help(): string {
  const lines = [
    'spillway: push datasets far larger than memory through your own code',
    '',
    'Usage: spillway <command> [options]',
    '       spillway --version | --help',
    '',
    'Commands:',
    ...[...commands].map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`),
  ];
  if (commands.size === 0) lines.push('  (none yet: this version is a library; see README.md)');
  lines.push(
    '',
    '`spillway COMMAND --help` shows a command\'s options. Commands that run pipelines (run, convert,',
    'replay) show live progress on stderr (--no-progress turns it off) and write their stats as JSON',
    'with --report FILE; Ctrl-C stops them cleanly (exit code 130).',
  );
  lines.push('', 'Library use: import { pipeline, fromCsv, map, toCsv } from "spillway"  (see README.md)');
  return lines.join('\n');
}

/** Loads every command module (they register themselves). */
async function loadCommands(): Promise<void> {
  await import('./commands/index.ts');
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  await loadCommands();
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${help()}\n`);
    return first === undefined ? 1 : 0;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const command = commands.get(first);
  if (!command) {
    process.stderr.write(`spillway: unknown command '${first}' (see spillway --help)\n`);
    return 2;
  }
  // arguments after `--` belong to the command's payload (e.g. a script run by `spillway run`)
  const own = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (own.includes('--help') || own.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    // one line for people; the code for scripts
    const code = error instanceof SpillwayError ? ` [${error.code}]` : '';
    process.stderr.write(`spillway ${first}: ${terminalSafe((error as Error).message)}${code}\n`);
    return 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && /[/\\](cli\.(js|ts)|spillway)$/.test(process.argv[1]);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`spillway: ${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
