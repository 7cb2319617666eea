/**
 * The relative links of README.md and docs/*.md point at files that exist, and their `#anchors`
 * at headings of the page linked (GitHub's slug rule), so moving a page or renaming a section
 * cannot leave a dead link behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ROOT } from '../helpers.ts';
import { documentationPages } from './code-blocks.ts';

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown file's headings (outside code blocks). */
function anchors(file: string): Set<string> {
  const found = new Set<string>();
  let inCode = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) inCode = !inCode;
    const heading = inCode ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (heading !== null) found.add(slug(heading[1]!));
  }
  return found;
}

test('relative links in README.md and docs/ lead to existing files and headings', () => {
  const broken: string[] = [];
  for (const page of documentationPages(ROOT)) {
    const file = join(ROOT, page);
    const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target!)) continue;
      const [path, anchor] = target!.split('#') as [string, string | undefined];
      const linked = path === '' ? file : join(dirname(file), path);
      if (!existsSync(linked)) broken.push(`${page}: ${target} (no ${relative(ROOT, linked)})`);
      else if (anchor !== undefined && linked.endsWith('.md') && !anchors(linked).has(anchor)) {
        broken.push(`${page}: ${target} (no heading #${anchor})`);
      }
    }
  }
  assert.deepEqual(broken, []);
});
