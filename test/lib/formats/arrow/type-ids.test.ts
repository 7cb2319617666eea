/** The type ids lib/formats/arrow/type-ids.ts hard-codes are apache-arrow's. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from 'apache-arrow';
import * as ids from '../../../../lib/formats/arrow/type-ids.ts';

test('the hard-coded Arrow type ids match apache-arrow', () => {
  assert.deepEqual(
    [
      ids.NULL_TYPE_ID,
      ids.INT_TYPE_ID,
      ids.FLOAT_TYPE_ID,
      ids.UTF8_TYPE_ID,
      ids.BOOL_TYPE_ID,
      ids.TIMESTAMP_TYPE_ID,
      ids.DATE_TYPE_ID,
      ids.LIST_TYPE_ID,
      ids.STRUCT_TYPE_ID,
      ids.MAP_TYPE_ID,
    ],
    [
      Type.Null,
      Type.Int,
      Type.Float,
      Type.Utf8,
      Type.Bool,
      Type.Timestamp,
      Type.Date,
      Type.List,
      Type.Struct,
      Type.Map,
    ],
  );
});
