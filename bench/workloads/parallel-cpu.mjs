// The parallel bench's CPU-bound row function in plain JavaScript (the same loop as
// parallel-cpu.ts): what a user of the built package runs, with no TypeScript loader in the worker.
export default function score(row) {
  let x = row.n + 1;
  let acc = 0;
  for (let i = 0; i < row.iterations; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    acc += Math.sqrt(x) * Math.sin(i);
  }
  return { n: row.n, score: Math.round(acc) };
}
