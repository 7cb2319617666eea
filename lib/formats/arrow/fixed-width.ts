/**
 * Arrow types whose values are fixed-width slots in one values buffer (`stride` elements a row),
 * copied slot by slot by the kernels that pick, gather or scatter rows (select.ts,
 * lib/operators/gather.ts, lib/operators/run-scatter.ts). Dictionaries are not listed: their
 * indices are slots too, but a kernel must first know the dictionary is shared.
 */
import { Type, type DataType } from 'apache-arrow';

/** True for Int, Float, Decimal, Date, Time, Timestamp, Interval, Duration and FixedSizeBinary. */
export function isFixedWidth(type: DataType): boolean {
  switch (type.typeId) {
    case Type.Int:
    case Type.Float:
    case Type.Decimal:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
    case Type.Interval:
    case Type.Duration:
    case Type.FixedSizeBinary:
      return true;
    default:
      return false;
  }
}
