#!/usr/bin/env node
/**
 * The `spillway` command line. Each command is a small module under lib/cli/commands/ registered
 * below; `spillway --help` lists them.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { packageVersion } from '../core/version.ts';
import { ownModule } from '../core/own-module.ts';
import { SpillwayError } from '../core/errors.ts';
import { terminalSafe } from '../observe/terminal-text.ts';

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
    "`spillway COMMAND --help` shows a command's options. Commands that run pipelines (run, convert,",
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
  const [first, ...rest] = argv;
  // before the commands load (they import the library): --version answers at once
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  await loadCommands();
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${help()}\n`);
    return first === undefined ? 1 : 0;
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

/** True when this module is the process's entry (the `spillway` bin, a symlink to it, or `node lib/cli/main.ts`). */
function invokedDirectly(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  // by path, not import.meta.url: bundled, this code sits in a chunk the commands share (and a
  // broken install throws here, with what is missing, rather than making the bin do nothing)
  const self = fileURLToPath(ownModule('lib/cli/main'));
  try {
    return realpathSync(entry) === realpathSync(self);
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`spillway: ${terminalSafe((error as Error).message)}\n`);
      process.exitCode = 1;
    },
  );
}
