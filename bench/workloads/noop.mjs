// Trivial task for the per-task overhead comparison with piscina: plain JavaScript, so neither
// pool pays a TypeScript loader for it.
export default function noop(task) {
  return task;
}
