/**
 * fieldsRead: the fields a per-row function's source shows it reads, given only when the source
 * proves it. Functions are made from source text (`new Function`), so the text analysed is the
 * text written here, not a transpiler's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldsRead } from '../../../lib/core/fields-read.ts';

/** The function `source` is, with exactly that source text. */
function fn(source: string): (...args: never[]) => unknown {
  return new Function(`return (${source});`)() as (...args: never[]) => unknown;
}

function fields(source: string): readonly string[] | undefined {
  return fieldsRead(fn(source))?.fields;
}

test('member reads of the row parameter are the fields, in the order first named', () => {
  assert.deepEqual(fields('(r) => ({ id: r.id, symbol: r.symbol, n: r.price * r.qty, again: r.id })'), [
    'id',
    'symbol',
    'price',
    'qty',
  ]);
  assert.deepEqual(fields('r => r.qty > 100'), ['qty']);
  assert.deepEqual(fields("function (row, i) { if (row['a b'] > i) return { v: row.c ?? row[0] }; }"), [
    'a b',
    'c',
    '0',
  ]);
  assert.deepEqual(fields('async (r) => { await null; return r?.x?.y; }'), ['x']);
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the source of a function using a template
  assert.deepEqual(fields('(r) => `${r.a}-${r.b}`'), ['a', 'b']);
  // names that are not references: a member's name, an object key, a label
  assert.deepEqual(fields('(r) => { r: for (;;) { break r; } const o = { r: 1 }; return o.r + r.q; }'), ['q']);
  assert.deepEqual(fields('() => ({ one: 1 })'), []);
});

test('a destructuring parameter names its fields; a rest element or a computed key gives no answer', () => {
  assert.deepEqual(fields("({ a, b: { c }, 'd e': f = 1 }) => a + c + f"), ['a', 'b', 'd e']);
  assert.equal(fields('({ a, ...others }) => others'), undefined);
  assert.equal(fields('({ [name]: v }) => v'), undefined);
  assert.equal(fields('({ a = arguments[0].b }) => a'), undefined);
  assert.equal(fields('([a, b]) => a + b'), undefined);
  assert.equal(fields('(r = {}) => r.a'), undefined);
});

test('any use of the row as a value gives no answer', () => {
  for (const source of [
    '(r) => r',
    '(r) => ({ x: 1, ...r })',
    '(r) => Object.keys(r).length',
    '(r) => JSON.stringify(r)',
    '(r) => ({ r })',
    "(r) => 'a' in r",
    '(r) => typeof r',
    '(r) => r === last',
    '(r) => { saved = r; return 1; }',
    '(r) => { const { a } = r; return a; }',
    '(r) => lookup(r.id, r)',
    '(r, i, all = r) => r.a',
    '(r) => r[key]',
    '(r) => r[`a`]',
  ])
    assert.equal(fields(source), undefined, source);
});

test('calls through the row, names every object has, arguments, eval and shadowing give no answer', () => {
  for (const source of [
    '(r) => r.f()',
    '(r) => r.f?.()',
    '(r) => new r.Kind()',
    '(r) => r.tag`x`',
    '(r) => r.constructor',
    '(r) => r.hasOwnProperty',
    '(r) => r.__proto__',
    "(r) => r['toString']",
    'function (r) { return arguments[0].a; }',
    "(r) => eval('r.a')",
    '(r) => [1].map((r) => r)',
    '(r) => { try { return r.a; } catch (r) { return 0; } }',
    '(r) => { var r2 = r.a; { let r = 1; return r + r2; } }',
  ])
    assert.equal(fields(source), undefined, source);
});

test('methods, named functions and generators parse; native, bound and class sources give no answer', () => {
  const object = {
    m(r: { x: number }) {
      return r.x;
    },
  };
  assert.deepEqual(fieldsRead(object.m)?.fields, ['x']);
  assert.deepEqual(fields('function named(r) { return r.a; }'), ['a']);
  assert.deepEqual(fields('function* (r) { yield r.a; }'), ['a']);
  assert.equal(fieldsRead(Math.max), undefined);
  assert.equal(fieldsRead(fn('(r) => r.a').bind(null)), undefined);
  assert.equal(fieldsRead(fn('class { m(r) { return r.a; } }')), undefined);
});

test('readOnly: only reads during the call; writes, deletes, closures reading the row and generators are not', () => {
  const readOnly = (source: string) => fieldsRead(fn(source))?.readOnly;
  assert.equal(readOnly('(r) => ({ id: r.id, n: r.price * r.qty })'), true);
  assert.equal(readOnly('async (r) => { await null; return r.a; }'), true);
  assert.equal(readOnly('({ a, b }) => () => a + b'), true, 'destructured values are copies taken during the call');
  for (const source of [
    '(r) => { r.a = 1; return r.a; }',
    '(r) => { r.n++; return r.n; }',
    '(r) => { r.n += 1; return r.n; }',
    '(r) => { delete r.a; return r.b; }',
    '(r) => { [r.a] = [1]; return r.a; }',
    '(r) => { ({ x: r.a } = { x: 1 }); return r.a; }',
    '(r) => { for (r.i of [1]); return r.i; }',
    '(r) => () => r.a',
    '(r) => { setTimeout(function () { log(r.a); }); return 1; }',
    '(r) => [1].map((x) => x + r.a)',
    'function* (r) { yield r.a; }',
  ])
    assert.equal(readOnly(source), false, source);
});

test('result: a function whose one result is `{ ...row, k: v }` sets those keys', () => {
  const use = (source: string) => fieldsRead(fn(source));
  assert.deepEqual(use('(r) => ({ ...r, n: r.price * r.qty, price: 1, n: 2 })'), {
    fields: ['price', 'qty'],
    readOnly: true,
    result: { keys: ['n', 'price'], spreadsRow: true },
  });
  assert.deepEqual(use("(row) => { const n = row.a * 2; return { ...row, n, 'a b': n }; }")?.result?.keys, [
    'n',
    'a b',
  ]);
  assert.deepEqual(use('(r) => ({ ...r })')?.result, { keys: [], spreadsRow: true });
  assert.equal(use('(r) => { r.a = 1; return { ...r, x: 1 }; }')?.readOnly, false, 'a write is seen');
  for (const source of [
    '(r) => ({ x: 1, ...r })',
    '(r) => ({ ...r, ...other })',
    '(r) => ({ ...r, [key]: 1 })',
    '(r) => ({ ...r, get x() { return 1; } })',
    '(r) => ({ ...r, m() { return 1; } })',
    "(r) => ({ ...r, '1': 2 })",
    '(r) => ({ ...r, __proto__: null })',
    '(r) => { if (r.a) return null; return { ...r, x: 1 }; }',
    '(r) => (r.a ? { ...r, x: 1 } : undefined)',
    'async (r) => ({ ...r, x: 1 })',
    'function* (r) { return { ...r, x: 1 }; }',
    '(r) => [{ ...r, x: 1 }]',
    '(r) => ({ ...r, x: { ...r } })',
    '(r) => { const o = { ...r, x: 1 }; return o; }',
  ])
    assert.equal(use(source), undefined, source);
});

test('result: a function whose one result is an object literal of fixed keys makes those keys', () => {
  const use = (source: string) => fieldsRead(fn(source));
  assert.deepEqual(use('(r) => ({ id: r.id, n: r.price * r.qty })'), {
    fields: ['id', 'price', 'qty'],
    readOnly: true,
    result: { keys: ['id', 'n'], spreadsRow: false, copies: ['id', undefined] },
  });
  // a key's last value counts; only a plain read of a field is a copy
  assert.deepEqual(use("(r) => ({ a: r.a, a: 1, b: r['b'], c: r?.c, d: r.a })")?.result?.copies, [
    undefined,
    'b',
    undefined,
    'a',
  ]);
  assert.deepEqual(use('({ id, price }) => ({ id, twice: price * 2 })')?.result?.keys, ['id', 'twice']);
  // not fixed keys, or not the one result: the fields still count, with no result
  for (const source of [
    '(r) => ({ [r.k]: 1 })',
    '(r) => ({ ...other, a: r.a })',
    "(r) => ({ a: r.a, '1': 2 })",
    '(r) => ({ get a() { return 1; } })',
    '(r) => (r.a ? { a: 1 } : undefined)',
    '(r) => { if (r.a) return; return { a: 1 }; }',
    'async (r) => ({ a: r.a })',
  ]) {
    const answer = use(source);
    assert.ok(answer !== undefined, source);
    assert.equal(answer.result, undefined, source);
  }
});

test('the answer for a function is computed once', () => {
  const f = fn('(r) => r.a');
  assert.equal(fieldsRead(f), fieldsRead(f));
});
