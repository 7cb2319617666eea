/**
 * The `dashboard` option: its forms, validation and the process-wide default `spillway run
 * --dashboard` sets. Kept apart from the dashboard itself so a run without one never loads it.
 */
import { ValidationError, describeValue } from '../../core/errors.ts';
import { expectBoolean, expectInteger, expectString } from '../../core/validate.ts';

/** The object form of the `dashboard` pipeline option. */
export interface DashboardOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`; another (e.g. `0.0.0.0`) only when you ask. */
  host?: string;
  /** Keep serving after the run ends, until Ctrl-C (SIGINT). Default false. */
  keep?: boolean;
  /** The page's title. Default `spillway dashboard`. */
  title?: string;
  /** Where the address line goes. Default `process.stderr`. */
  stream?: { write(chunk: string): unknown };
}

/** The `dashboard` pipeline option: `true` for the defaults, or {@link DashboardOptions}. */
export type DashboardOption = boolean | DashboardOptions;

/** A validated dashboard option. */
export interface DashboardSpec {
  port: number;
  host: string;
  keep: boolean;
  title: string;
  stream: { write(chunk: string): unknown };
}

const DEFAULT_KEY = Symbol.for('spillway.dashboardDefault');
type Holder = { [DEFAULT_KEY]?: DashboardOption };

/**
 * Sets the process-wide default for the `dashboard` option (what `spillway run --dashboard`
 * does); returns a function that restores the previous default.
 */
export function setDashboardDefault(option: DashboardOption | undefined): () => void {
  const holder = globalThis as Holder;
  const previous = holder[DEFAULT_KEY];
  if (option === undefined) delete holder[DEFAULT_KEY];
  else holder[DEFAULT_KEY] = option;
  return () => {
    if (previous === undefined) delete holder[DEFAULT_KEY];
    else holder[DEFAULT_KEY] = previous;
  };
}

/** The process-wide default for the `dashboard` option, if one was set. */
export function dashboardDefault(): DashboardOption | undefined {
  return (globalThis as Holder)[DEFAULT_KEY];
}

/** Validates the `dashboard` option; undefined when the dashboard is off. Throws ValidationError. */
export function resolveDashboard(option: unknown, path = 'options.dashboard'): DashboardSpec | undefined {
  if (option === undefined || option === false) return undefined;
  const o = (option === true ? {} : option) as DashboardOptions;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw new ValidationError(`Expected \`${path}\` to be a boolean or an object, got ${describeValue(option)}`);
  }
  for (const key of Object.keys(o)) {
    if (!['port', 'host', 'keep', 'title', 'stream'].includes(key))
      throw new ValidationError(`Unknown option \`${path}.${key}\` (expected port, host, keep, title, stream)`);
  }
  if (
    o.stream !== undefined &&
    (typeof o.stream !== 'object' || o.stream === null || typeof o.stream.write !== 'function')
  ) {
    throw new ValidationError(`Expected \`${path}.stream\` to be a writable stream, got ${describeValue(o.stream)}`);
  }
  return {
    port: expectInteger(o.port, `${path}.port`, 0, 0, 65_535),
    host: o.host === undefined ? '127.0.0.1' : expectString(o.host, `${path}.host`),
    keep: expectBoolean(o.keep, `${path}.keep`, false),
    title: o.title === undefined ? 'spillway dashboard' : expectString(o.title, `${path}.title`),
    stream: o.stream ?? process.stderr,
  };
}
