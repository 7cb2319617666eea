/** The type ids lib/formats/arrow/type-ids.ts hard-codes are apache-arrow's. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from 'apache-arrow';
import { LIST_TYPE_ID, MAP_TYPE_ID, STRUCT_TYPE_ID } from '../../../../lib/formats/arrow/type-ids.ts';

test('the hard-coded Arrow type ids match apache-arrow', () => {
  assert.deepEqual([LIST_TYPE_ID, STRUCT_TYPE_ID, MAP_TYPE_ID], [Type.List, Type.Struct, Type.Map]);
});
