/**
 * Docs that cannot rot: every ```ts block of README.md and docs/*.md is type-checked (one
 * TypeScript program over all of them) and, unless its fence says `no-run`/`types-only`, run in a
 * child process on small generated input files (test/docs/example-inputs.ts). A block fenced
 * ```ts no-check is skipped (code that needs a subpath export or a service). docs/operators*.md
 * are left to test/docs/operators.test.ts, so their examples do not run twice.
 *
 * The blocks are written into a folder inside the project (.tmp/, ignored by git) so that
 * `import ... from 'spillway'` resolves through the package's self-reference and the
 * `spillway-source` condition, as it does for a user's code beside an installed package; each
 * one runs with its own fresh working directory holding the inputs, and with TMPDIR set to an
 * empty folder that must be empty again when it ends (an example a reader copies cleans up).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, join, relative } from 'node:path';
import ts from 'typescript';
import { BUILD, ROOT, tempDir } from '../helpers.ts';
import { allCodeBlocks, writeRunnableBlock, type CodeBlock } from './code-blocks.ts';
import { copyExampleInputs, writeExampleInputs } from './example-inputs.ts';

const blocks = allCodeBlocks(ROOT);
const checked = blocks.filter((b) => b.mode !== 'no-check');
const work = join(ROOT, '.tmp', `docs-examples-${process.pid}`);
const inputs = tempDir('spillway-docs-inputs-');
// `--import tsx` resolved here, since the examples run with a working directory outside the project
const tsx = import.meta.resolve('tsx');
/** Where tsx caches what it compiled (its own rule: `tsx-` and the user id, in os.tmpdir()). */
const TSX_CACHE = join(tmpdir(), `tsx-${process.geteuid?.() ?? userInfo().username}`);

/** The file a block is written to. */
function fileOf(block: CodeBlock): string {
  return join(work, `${block.page.replace(/[^a-z0-9]+/gi, '-')}-${block.line}.ts`);
}

/** Type-checks the blocks as one program; returns one message per error, located in its page. */
function typeErrors(list: readonly CodeBlock[]): string[] {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    declaration: false,
    sourceMap: false,
    incremental: false,
  };
  const program = ts.createProgram(list.map(fileOf), options);
  const errors: string[] = [];
  for (const block of list) {
    const source = program.getSourceFile(fileOf(block));
    if (source === undefined) throw new Error(`${block.page}:${block.line}: not in the program`);
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    for (const d of diagnostics) {
      const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
      errors.push(`${block.page}:${block.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    }
  }
  return errors;
}

/**
 * Runs one block in a fresh directory holding the inputs: as JavaScript against the compiled
 * project under `npm test` (a second of CPU less per example), else through tsx from the sources.
 */
function runBlock(block: CodeBlock): Promise<void> {
  const cwd = tempDir('spillway-docs-example-');
  copyExampleInputs(inputs, cwd);
  // a reader copies the examples: what one makes under os.tmpdir() it must remove. Each gets a
  // TMPDIR of its own, so the check is not fooled by tests running beside it
  const tmp = tempDir('spillway-docs-tmpdir-');
  // tsx keeps its compile cache in os.tmpdir(): shared through a link, not compiled afresh each time
  if (BUILD === undefined) {
    mkdirSync(TSX_CACHE, { recursive: true });
    symlinkSync(TSX_CACHE, join(tmp, basename(TSX_CACHE)));
  }
  const file = writeRunnableBlock(block.code, fileOf(block));
  const args = BUILD === undefined ? ['--conditions=spillway-source', '--import', tsx, file] : [file];
  const env = { ...process.env, NODE_OPTIONS: '', TMPDIR: tmp };
  const options = { cwd, timeout: 120_000, killSignal: 'SIGKILL' as const, env };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, options, (error, stdout, stderr) => {
      if (error !== null) {
        const how = error.signal ?? `exit ${String(error.code)}`;
        return reject(new Error(`${block.page}:${block.line} failed (${how})\n${stderr}\n${stdout}`));
      }
      const left = readdirSync(tmp).filter((name) => name !== basename(TSX_CACHE));
      if (left.length === 0) return resolve();
      reject(new Error(`${block.page}:${block.line} left ${left.join(', ')} in os.tmpdir()`));
    });
  });
}

describe('documentation examples', { concurrency: 2 }, () => {
  before(async () => {
    mkdirSync(work, { recursive: true });
    // `export {}` makes every block a module of its own (top-level await, no shared names)
    for (const block of checked) writeFileSync(fileOf(block), `${block.code}\nexport {};\n`);
    await writeExampleInputs(inputs);
  });
  after(() => {
    rmSync(work, { recursive: true, force: true });
    if (BUILD !== undefined) rmSync(join(BUILD, relative(ROOT, work)), { recursive: true, force: true });
  });

  it('README.md and the docs pages have examples to check', () => {
    const readme = blocks.some((b) => b.page === 'README.md' && b.mode === 'run');
    assert.ok(readme, 'README.md has a runnable example');
    assert.ok(checked.length >= 40, `expected the pages' examples, found ${checked.length}`);
  });

  it(`the ${checked.length} examples type-check`, { timeout: 300_000 }, () => {
    assert.deepEqual(typeErrors(checked), []);
  });

  for (const block of checked.filter((b) => b.mode === 'run')) {
    it(`${block.page}:${block.line} runs`, { timeout: 150_000 }, () => runBlock(block));
  }
});
