/**
 * The shape of the code base, checked: no import cycles among the library's modules (type-only
 * imports included), so each layer can be read without the ones above it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from './helpers.ts';

const LIBRARY = ['index.ts', 'lib', 'sources', 'transforms', 'sinks'];

function files(path: string): string[] {
  const abs = join(ROOT, path);
  if (statSync(abs).isFile()) return path.endsWith('.ts') ? [abs] : [];
  return readdirSync(abs).flatMap((name) => files(join(path, name)));
}

/** Relative imports of each module (static, dynamic and type-only). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const spec = /(?:^|\s)(?:import|export)\s[^'";]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/gm;
  for (const file of LIBRARY.flatMap(files)) {
    const text = readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const m of text.matchAll(spec)) targets.push(resolve(dirname(file), (m[1] ?? m[2])!));
    graph.set(file, targets);
  }
  return graph;
}

function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'open') found.push(stack.slice(stack.indexOf(next)).concat(next));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

test('the library has no import cycles, type-only imports included', () => {
  const found = cycles(importGraph()).map((cycle) => cycle.map((f) => relative(ROOT, f)).join(' -> '));
  assert.deepEqual(found, []);
});
