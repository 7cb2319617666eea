/**
 * Finds the ```ts code blocks of the README and the docs/ pages, with what their fence says
 * about them, so one test can type-check and run them all (test/docs/examples.test.ts).
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { BUILD, ROOT } from '../helpers.ts';

/**
 * What a block's fence asks: `run` (```ts: type-checked and run), `types-only` (```ts no-run or
 * ```ts types-only: a fragment, type-checked only), `no-check` (```ts no-check: neither, for code
 * that imports from outside the main entry or needs a service the tests do not start).
 */
export type BlockMode = 'run' | 'types-only' | 'no-check';

/** One ```ts block of a Markdown page. */
export interface CodeBlock {
  /** The page, relative to the project root (`README.md`, `docs/sources.md`). */
  page: string;
  /** 1-based line of the block's first code line in the page. */
  line: number;
  mode: BlockMode;
  code: string;
}

/** Fence words and the mode each asks for. */
const MODES: Readonly<Record<string, BlockMode>> = {
  '': 'run',
  'no-run': 'types-only',
  'types-only': 'types-only',
  'no-check': 'no-check',
};

/** The ```ts blocks of one page's text (other languages are left alone). */
export function codeBlocks(page: string, text: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript)(?:\s+(.*))?$/.exec(lines[i]!.trimEnd());
    if (open === null) {
      // skip over blocks of other languages so a ```ts inside them is not taken for a fence
      if (/^```\S*/.test(lines[i]!)) i = closingFence(lines, i, page);
      continue;
    }
    const word = (open[2] ?? '').trim();
    const mode = MODES[word];
    if (mode === undefined) {
      throw new Error(`${page}:${i + 1}: unknown fence word '${word}' (known: no-run, types-only, no-check)`);
    }
    const end = closingFence(lines, i, page);
    blocks.push({ page, line: i + 2, mode, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** The index of the fence closing the block opened at `start`. */
function closingFence(lines: readonly string[], start: number, page: string): number {
  for (let j = start + 1; j < lines.length; j++) if (lines[j]!.trimEnd() === '```') return j;
  throw new Error(`${page}:${start + 1}: a code block is never closed`);
}

/**
 * The pages whose examples are checked: README.md and every docs/*.md. docs/operators*.md are
 * left out: test/docs/operators.test.ts runs their examples already.
 */
export function documentationPages(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md') && !name.startsWith('operators'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** Every ```ts block of README.md and the docs pages, in page order. */
export function allCodeBlocks(root: string): CodeBlock[] {
  return documentationPages(root).flatMap((page) => codeBlocks(page, readFileSync(join(root, page), 'utf8')));
}

/**
 * Writes a block's `code` as a module this process's Node can run, for `file` (a .ts path inside
 * the project), and returns the path written: `file` itself, run through tsx, when the tests run
 * from the sources; when `npm test` compiled the project (BUILD), the block's JavaScript (types
 * stripped) at the same place inside the build, so that `import ... from 'spillway'` resolves to
 * the compiled package through the build's own package.json.
 */
export function writeRunnableBlock(code: string, file: string): string {
  const source = `${code}\nexport {};\n`;
  if (BUILD === undefined) {
    writeFileSync(file, source);
    return file;
  }
  const built = join(BUILD, relative(ROOT, file)).replace(/\.ts$/, '.mjs');
  mkdirSync(dirname(built), { recursive: true });
  const compilerOptions = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 };
  writeFileSync(built, ts.transpileModule(source, { compilerOptions }).outputText);
  return built;
}
