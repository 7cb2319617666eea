/**
 * Registers the CLI's commands. Each command lives in its own file in this folder and adds
 * itself to `commands` (lib/cli/main.ts) when imported; add one import line per command.
 */
import './convert.ts';
import './inspect.ts';
import './replay.ts';
import './run.ts';
import './worker.ts';
