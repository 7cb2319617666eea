/**
 * The parallel bench's workloads: `default` is a CPU-bound row function (a few thousand floating
 * point operations, about what scoring a record costs), `noop` returns its row (per-task overhead).
 */
export interface CpuRow {
  n: number;
  iterations: number;
}

export default function score(row: CpuRow): { n: number; score: number } {
  let x = row.n + 1;
  let acc = 0;
  for (let i = 0; i < row.iterations; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    acc += Math.sqrt(x) * Math.sin(i);
  }
  return { n: row.n, score: Math.round(acc) };
}

export function noop(row: unknown): unknown {
  return row;
}
