/**
 * StringCodes: one code per byte string through many growths, found again by the same bytes at
 * another offset; strings that share a hash's slot bits, a length or a prefix stay apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StringCodes, hashUtf8 } from '../../../lib/operators/string-codes.ts';

// grown by doubling; toward an expected size reached mid-way (a jump from 4096 to 65536 entries); past one
for (const expected of [undefined, 40_000, 20_000]) {
  test(`StringCodes finds every string it holds, and only those, through many growths (expected ${expected})`, () => {
    const strings: string[] = [];
    for (let i = 0; i < 60_000; i++) strings.push(new Date(1.7e12 + i * 37).toISOString());
    // the same prefix at other lengths, empty text, and non-ASCII text
    strings.push('', 'a', 'ab', 'abc', 'é', 'ée', '日本', '日本語');
    const table = new StringCodes(expected);
    const bytes = Buffer.from(strings.join(''));
    const at = [0];
    for (const s of strings) at.push(at[at.length - 1]! + Buffer.byteLength(s));
    strings.forEach((_, i) => {
      const h = hashUtf8(bytes, at[i]!, at[i + 1]!);
      assert.equal(table.find(bytes, at[i]!, at[i + 1]!, h), -1, `${strings[i]} not held yet`);
      table.insert(bytes, at[i]!, at[i + 1]!, h, 1000 + i);
    });
    assert.equal(table.size, strings.length);
    // found again from a copy at another offset, and never confused with a string not held
    const copy = Buffer.concat([Buffer.from('xyz'), bytes]);
    strings.forEach((s, i) => {
      const h = hashUtf8(copy, 3 + at[i]!, 3 + at[i + 1]!);
      assert.equal(table.find(copy, 3 + at[i]!, 3 + at[i + 1]!, h), 1000 + i, s);
      assert.equal(table.text(i), s);
    });
    for (const missing of ['abcd', 'b', '2023-11-14T22:13:20.001Z', '日']) {
      const b = Buffer.from(missing);
      assert.equal(table.find(b, 0, b.length, hashUtf8(b, 0, b.length)), -1, missing);
    }
    assert.equal(table.codeOfString('abc', 7), 1000 + strings.indexOf('abc'));
    assert.equal(table.codeOfString('abcde', 7), 7);
  });
}

test('hashUtf8 hashes the same bytes alike at any offset, tells them apart by one bit, and notes whether they were ASCII', async () => {
  const { hashedAscii } = await import('../../../lib/operators/string-codes.ts');
  for (let length = 0; length <= 13; length++) {
    const text = 'abcdefghijklm'.slice(0, length);
    const hashes = new Set<number>();
    for (let offset = 0; offset < 4; offset++) {
      const b = Buffer.concat([Buffer.alloc(offset, 0xff), Buffer.from(text), Buffer.alloc(3, 0xff)]);
      hashes.add(hashUtf8(b, offset, offset + length));
      assert.equal(hashedAscii(), true, `${text} at ${offset}`);
    }
    assert.equal(hashes.size, 1, `one hash for ${text} at every offset`);
    // a high bit in any byte, in a whole word or in the tail: not ASCII, and another hash
    for (let at = 0; at < length; at++) {
      const b = Buffer.from(text);
      b[at]! |= 0x80;
      const h = hashUtf8(b, 0, length);
      assert.equal(hashedAscii(), false, `${text} with byte ${at} high`);
      assert.ok(!hashes.has(h), `${text} with byte ${at} high hashes apart`);
    }
  }
  const empty = Buffer.alloc(0);
  assert.notEqual(hashUtf8(Buffer.from('a'), 0, 1), hashUtf8(empty, 0, 0));
  assert.equal(hashedAscii(), true);
});
