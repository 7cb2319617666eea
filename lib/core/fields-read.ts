/**
 * Which fields of its row a per-row function reads, found from its source text, so that a
 * `map(r => ({ id: r.id, total: r.price * r.qty }))` gets the fast path a `select` would give
 * without the user naming the columns: the source fills only those columns (projection pushdown,
 * lib/core/negotiate.ts) and the function's row object holds only them. Arquero reads its table
 * expressions' sources the same way.
 *
 * The answer must never change what the function computes, so it is given only when the source
 * proves it: the row parameter is used nowhere but as the object of `row.name` (or `row['name']`)
 * reads and writes, never as a value (returned, passed, spread other than first in the object
 * literal it returns, see {@link RowUse.result}; enumerated, compared, captured under another
 * name), never called through (`row.fn()`), never shadowed, and no name it reads is
 * one every object has (`constructor`, `toString`, `__proto__`...); a destructuring parameter
 * names its fields and has no rest. `arguments` and `eval` anywhere, a source that does not parse
 * (a native or bound function), or any other parameter shape: no answer, and the function gets
 * whole rows as before.
 */
import type { Node } from 'acorn';
import { lazyRequire } from './lazy-require.ts';

const acorn = lazyRequire<typeof import('acorn')>('acorn');

/** What the source of a per-row function shows of its use of the row (see {@link fieldsRead}). */
export interface RowUse {
  /**
   * The fields it can read or write as `row.name`, in the order first named; empty: none. A
   * function that spreads its row ({@link ResultLiteral.spreadsRow}) reads every field besides.
   */
  readonly fields: readonly string[];
  /**
   * True when it only reads them, during the call: no field is written or deleted, and no
   * function made inside it reads the row (a closure could read it after the call). Such a
   * function cannot tell a read-only row view from a row object whose values are primitives.
   */
  readonly readOnly: boolean;
  /**
   * When the function's one result is an object literal of fixed keys, `{ k1: e1, k2: e2 }`, or
   * `{ ...row, k1: e1 }` spreading the row first: what its output rows are made of, which a batch
   * can then hold as Arrow columns with no row object (lib/core/row-extend.ts).
   */
  readonly result?: ResultLiteral;
}

/** The object literal a function always returns (see {@link RowUse.result}). */
export interface ResultLiteral {
  /** Its keys, in order (a key given twice counts once, where it first stood). */
  readonly keys: readonly string[];
  /** It spreads the row first: the output is the row's columns with these keys set. */
  readonly spreadsRow: boolean;
  /**
   * Per key, the field whose value it is when its (last) value is just `row.field` (a copy of a
   * column, which a batch can pass on as it is), else undefined. Given when the row is not spread.
   */
  readonly copies?: readonly (string | undefined)[];
}

/** Answers so far, per function (a pipeline may build the same function into many stages). */
const known = new WeakMap<object, RowUse | undefined>();

/**
 * The fields `fn` can read from its first argument and how, or undefined when its source does
 * not prove it touches no others (see the module comment).
 */
export function fieldsRead(fn: (...args: never[]) => unknown): RowUse | undefined {
  if (known.has(fn)) return known.get(fn);
  const use = analyse(fn);
  known.set(fn, use);
  return use;
}

/** A node as the walker sees it: its type and its children by key. */
type AnyNode = Node & Record<string, unknown>;

/** Thrown inside the walk when the source does not prove which fields are read. */
const UNPROVEN = Symbol('unproven');

const FUNCTION_TYPES = new Set(['ArrowFunctionExpression', 'FunctionExpression', 'FunctionDeclaration']);

function analyse(fn: (...args: never[]) => unknown): RowUse | undefined {
  const node = parseFunction(Function.prototype.toString.call(fn));
  if (node === undefined) return undefined;
  const [row, ...rest] = node.params as AnyNode[];
  if (row !== undefined && row.type !== 'Identifier' && row.type !== 'ObjectPattern') return undefined;
  const walker = new RowWalker(row?.type === 'Identifier' ? (row.name as string) : undefined, resultLiteral(node));
  try {
    if (row?.type === 'ObjectPattern') walker.pattern(row);
    for (const param of rest) walker.walk(param, undefined);
    walker.walk(node.body as AnyNode, undefined);
  } catch (error) {
    if (error === UNPROVEN) return undefined;
    throw error;
  }
  // a generator's body runs as it is iterated, after the call
  const readOnly = !walker.writes && !walker.readLater && node.generator !== true;
  const use = { fields: [...walker.reads], readOnly };
  return walker.result === undefined ? use : { ...use, result: walker.result };
}

/**
 * The object literal a synchronous, non-generator function always returns, when its body says
 * so: an arrow's body, or a block whose last statement returns it and holds no other return.
 */
function resultLiteral(fn: AnyNode): AnyNode | undefined {
  if (fn.async === true || fn.generator === true) return undefined;
  const body = fn.body as AnyNode;
  if (body.type === 'ObjectExpression') return body;
  if (body.type !== 'BlockStatement') return undefined;
  const statements = body.body as AnyNode[];
  const last = statements[statements.length - 1];
  if (last?.type !== 'ReturnStatement' || (last.argument as AnyNode | null)?.type !== 'ObjectExpression')
    return undefined;
  // any other return at this level (in an if, a loop) could return something else
  return statements.slice(0, -1).some(returnsHere) ? undefined : (last.argument as AnyNode);
}

/** True when `node` holds a return statement of the function it is in (not of a nested one). */
function returnsHere(node: AnyNode): boolean {
  if (node.type === 'ReturnStatement') return true;
  if (FUNCTION_TYPES.has(node.type) || node.type === 'ClassExpression' || node.type === 'ClassDeclaration')
    return false;
  for (const key of Object.keys(node)) {
    const child = node[key];
    if (Array.isArray(child)) {
      if (child.some((item) => isNode(item) && returnsHere(item))) return true;
    } else if (isNode(child) && returnsHere(child)) return true;
  }
  return false;
}

/**
 * The keys of an object literal's `properties` when all are fixed keys of plain values (no
 * spread, computed key, method or accessor, and no key an object orders or treats specially),
 * in order of first appearance; else undefined.
 */
function fixedKeys(properties: readonly AnyNode[]): string[] | undefined {
  const keys: string[] = [];
  for (const property of properties) {
    if (property.type !== 'Property' || property.kind !== 'init' || property.method === true) return undefined;
    const name = fixedName(property.key as AnyNode, property.computed as boolean);
    if (name === undefined || !plainKey(name)) return undefined;
    if (!keys.includes(name)) keys.push(name);
  }
  return keys;
}

/**
 * The fixed name a key stands for: `a` (not computed), `'a b'` or `0` (a string or number
 * literal, computed or not), as an object literal's key or a member's property; else undefined.
 */
function fixedName(key: AnyNode, computed: boolean): string | undefined {
  if (!computed && key.type === 'Identifier') return key.name as string;
  if (key.type === 'Literal' && (typeof key.value === 'string' || typeof key.value === 'number'))
    return String(key.value);
  return undefined;
}

/** Keys a row object orders before all others (array indices) or treats specially: no result literal may use them. */
function plainKey(key: string): boolean {
  return key !== '__proto__' && !/^(0|[1-9]\d{0,9})$/.test(key);
}

/** The function expression `source` is (an arrow, a function or a method), or undefined. */
function parseFunction(source: string): AnyNode | undefined {
  let parse: typeof import('acorn').parse;
  try {
    ({ parse } = acorn());
  } catch {
    return undefined; // no parser installed: every function gets whole rows, as before
  }
  const attempts = [
    () => (parse(`(${source})`, { ecmaVersion: 'latest' }).body[0] as AnyNode | undefined)?.expression,
    // a method's source (`m(r) { ... }`) is a function only inside an object literal
    () =>
      (
        ((parse(`({${source}})`, { ecmaVersion: 'latest' }).body[0] as AnyNode | undefined)?.expression as AnyNode)
          ?.properties as AnyNode[]
      )?.[0]?.value,
  ];
  for (const attempt of attempts) {
    try {
      const node = attempt() as AnyNode | undefined;
      if (node?.type === 'ArrowFunctionExpression' || node?.type === 'FunctionExpression') return node;
    } catch {
      // not this form: try the next
    }
  }
  return undefined;
}

/** The field a member's property or a pattern's key names, when it is a fixed name. */
function fieldName(key: AnyNode, computed: boolean): string {
  const name = fixedName(key, computed);
  // every object has these, whatever its fields: reading one is not reading a column
  if (name === undefined || name in Object.prototype) throw UNPROVEN;
  return name;
}

/** Children that are names, not references: a member's `.name`, a non-computed key, a label. */
function isNameSlot(node: AnyNode, key: string): boolean {
  switch (node.type) {
    case 'MemberExpression':
      return key === 'property' && !node.computed;
    case 'Property':
    case 'MethodDefinition':
    case 'PropertyDefinition':
      return key === 'key' && !node.computed;
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
      return key === 'label';
    case 'MetaProperty':
      return true;
    default:
      return false;
  }
}

/** True when `member` is called or constructed through (`row.f()`, `new row.f`, row.f`...`). */
function isCalled(member: AnyNode, parent: AnyNode | undefined): boolean {
  if (parent === undefined) return false;
  if (parent.type === 'CallExpression' || parent.type === 'NewExpression') return parent.callee === member;
  return parent.type === 'TaggedTemplateExpression' && parent.tag === member;
}

/** True when `member` is written (assigned, updated, deleted, a loop's or a pattern's target) by `parent`. */
function isWritten(member: AnyNode, parent: AnyNode | undefined, inPattern: boolean): boolean {
  if (inPattern || parent === undefined) return inPattern;
  switch (parent.type) {
    case 'AssignmentExpression':
    case 'ForInStatement':
    case 'ForOfStatement':
      return parent.left === member;
    case 'UpdateExpression':
      return true;
    case 'UnaryExpression':
      return parent.operator === 'delete';
    default:
      return false;
  }
}

/** Walks a function's parameters and body for the uses of its row parameter. */
class RowWalker {
  /** Fields named, in the order first named. */
  readonly reads = new Set<string>();
  /** A field is written or deleted. */
  writes = false;
  /** A function made inside reads the row. */
  readLater = false;
  /** The result literal's keys (see RowUse.result), once seen. */
  result: ResultLiteral | undefined;
  readonly #row: string | undefined;
  readonly #result: AnyNode | undefined;
  #depth = 0;
  #inPattern = 0;

  /**
   * @param row the row parameter's name; undefined when it is destructured (or absent)
   * @param result the literal the function returns, where `...row` may stand first
   */
  constructor(row: string | undefined, result: AnyNode | undefined) {
    this.#row = row;
    this.#result = result;
  }

  /**
   * Walks the result literal `{ ...row, k: v, ... }`: its keys are the result's, its values are
   * walked. Anything but fixed keys after the spread lets the row out: no answer.
   */
  #extension(literal: AnyNode): void {
    const keys = fixedKeys((literal.properties as AnyNode[]).slice(1));
    if (keys === undefined) throw UNPROVEN;
    for (const property of (literal.properties as AnyNode[]).slice(1)) this.walk(property.value as AnyNode, property);
    this.result = { keys, spreadsRow: true };
  }

  /** Per key of the literal, the row field its last value copies (see ResultLiteral.copies). */
  #copies(literal: AnyNode, keys: readonly string[]): (string | undefined)[] {
    const copies = new Map<string, string | undefined>();
    for (const property of literal.properties as AnyNode[]) {
      const value = property.value as AnyNode;
      const copied =
        value.type === 'MemberExpression' && this.#isRow(value.object as AnyNode) && value.optional !== true
          ? fixedName(value.property as AnyNode, value.computed as boolean)
          : undefined;
      // fixedKeys found every property's name; a later value of a key replaces an earlier one
      copies.set(fixedName(property.key as AnyNode, property.computed as boolean)!, copied);
    }
    return keys.map((key) => copies.get(key));
  }

  /** Adds the fields a destructuring parameter `{ a, b: { c }, 'd e': f = 1 }` takes (a, b, 'd e'). */
  pattern(pattern: AnyNode): void {
    for (const property of pattern.properties as AnyNode[]) {
      if (property.type !== 'Property') throw UNPROVEN; // a rest element takes every other field
      this.reads.add(fieldName(property.key as AnyNode, property.computed as boolean));
      // a default value may still reach the row (`{ a = arguments[0] }`)
      this.walk(property.value as AnyNode, property);
    }
  }

  /** Walks `node`; throws {@link UNPROVEN} at a use of the row other than a field's. */
  walk(node: AnyNode, parent: AnyNode | undefined): void {
    if (node.type === 'Identifier') {
      const name = node.name as string;
      if (name === this.#row || name === 'arguments' || name === 'eval') throw UNPROVEN;
      return;
    }
    if (node === this.#result && this.#depth === 0) {
      const first = (node.properties as AnyNode[])[0];
      if (first?.type === 'SpreadElement' && this.#isRow(first.argument as AnyNode)) return this.#extension(node);
      const keys = fixedKeys(node.properties as AnyNode[]);
      if (keys !== undefined) this.result = { keys, spreadsRow: false, copies: this.#copies(node, keys) };
    }
    if (node.type === 'MemberExpression' && this.#isRow(node.object as AnyNode)) {
      if (isCalled(node, parent)) throw UNPROVEN;
      this.reads.add(fieldName(node.property as AnyNode, node.computed as boolean));
      if (isWritten(node, parent, this.#inPattern > 0)) this.writes = true;
      if (this.#depth > 0) this.readLater = true;
      return;
    }
    const nested = FUNCTION_TYPES.has(node.type) || node.type === 'ClassExpression' || node.type === 'ClassDeclaration';
    const pattern = node.type === 'ObjectPattern' || node.type === 'ArrayPattern';
    if (nested) this.#depth++;
    if (pattern) this.#inPattern++;
    for (const key of Object.keys(node)) {
      if (isNameSlot(node, key)) continue;
      const child = node[key];
      if (Array.isArray(child)) {
        for (const item of child) if (isNode(item)) this.walk(item, node);
      } else if (isNode(child)) this.walk(child, node);
    }
    if (nested) this.#depth--;
    if (pattern) this.#inPattern--;
  }

  #isRow(node: AnyNode): boolean {
    return this.#row !== undefined && node.type === 'Identifier' && node.name === this.#row;
  }
}

function isNode(value: unknown): value is AnyNode {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
