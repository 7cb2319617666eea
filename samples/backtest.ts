/**
 * The worker module of samples/param-sweep.ts: backtests one configuration of a trend-following
 * strategy on a generated price series, as a trading researcher would sweep it. The default export
 * is the row function `parallel()` calls in each worker; `--serial` calls the same function in the
 * main thread.
 *
 * The series is generated once per worker from a fixed seed (20 years of daily bars, regime-
 * switching volatility, fat-tailed returns and overnight gaps), so every worker and the serial
 * run see the same bars and give bit-identical results. Each configuration is also run on four
 * alternative histories (other seeds) as a robustness check: `robustSharpe` is the worst Sharpe.
 */
import { random } from './trades-data.ts';

/** One point of the sweep grid. */
export interface SweepConfig {
  id: number;
  /** Most of the equity one position may hold (fraction; the cap for every sizing method). */
  positionSize: number;
  /** Equity risked per trade if the stop is hit (fraction). */
  riskPerTrade: number;
  /** Stop loss below the entry price (fraction). */
  stopLoss: number;
  /** Take profit above the entry price (fraction). */
  takeProfit: number;
  /** `fixed`: always `positionSize`; `risk`: riskPerTrade / stopLoss; `volatility`: riskPerTrade / ATR%. */
  sizing: 'fixed' | 'risk' | 'volatility';
}

/** What one backtest returns. */
export interface SweepResult extends SweepConfig {
  sharpe: number;
  /** Worst Sharpe over the alternative histories. */
  robustSharpe: number;
  calmar: number;
  cagr: number;
  maxDrawdown: number;
  trades: number;
  winRate: number;
  finalEquity: number;
}

/** Bars in the generated series: 20 years of trading days. */
export const BARS = 5040;
/** Seed of the series. */
export const SERIES_SEED = 20_26_11;
/** Most exposure the broker allows (2x margin). */
export const MAX_LEVERAGE = 2;
/** Commission plus slippage per side. */
const COST = 0.0005;
const DAYS_PER_YEAR = 252;

/** Deterministic PRNG, shared with the trades generator. */
export { random };

interface Series {
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  /** 14-day average true range as a fraction of the close. */
  atrPct: Float64Array;
  /** 1 while the trend filter says long (close > SMA50 > SMA200), computed on the close. */
  signal: Uint8Array;
}

/** The price series and its indicators, generated from the seed. */
export function generateSeries(bars = BARS, seed = SERIES_SEED): Series {
  const rand = random(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
  const open = new Float64Array(bars);
  const high = new Float64Array(bars);
  const low = new Float64Array(bars);
  const close = new Float64Array(bars);
  let price = 100;
  let calm = true;
  for (let t = 0; t < bars; t++) {
    if (rand() < (calm ? 0.01 : 0.04)) calm = !calm; // volatility regimes last months
    const vol = (calm ? 0.14 : 0.34) / Math.sqrt(DAYS_PER_YEAR);
    const drift = 0.07 / DAYS_PER_YEAR;
    // fat tails: a Student-t-like scale mixture, and rare overnight gaps
    const shock = normal() * (rand() < 0.05 ? 2.5 : 1);
    const gap = rand() < 0.01 ? normal() * 0.03 : 0;
    const o = price * Math.exp(gap);
    const c = o * Math.exp(drift - (vol * vol) / 2 + vol * shock);
    const range = Math.abs(normal()) * vol * o * 0.6;
    open[t] = o;
    close[t] = c;
    high[t] = Math.max(o, c) + range * rand();
    low[t] = Math.min(o, c) - range * rand();
    price = c;
  }
  const atrPct = new Float64Array(bars);
  const signal = new Uint8Array(bars);
  let atr = 0;
  let sum50 = 0;
  let sum200 = 0;
  for (let t = 0; t < bars; t++) {
    const prev = t > 0 ? close[t - 1]! : open[t]!;
    const tr = Math.max(high[t]! - low[t]!, Math.abs(high[t]! - prev), Math.abs(low[t]! - prev));
    atr = t < 14 ? (atr * t + tr) / (t + 1) : (atr * 13 + tr) / 14;
    atrPct[t] = atr / close[t]!;
    sum50 += close[t]!;
    sum200 += close[t]!;
    if (t >= 50) sum50 -= close[t - 50]!;
    if (t >= 200) sum200 -= close[t - 200]!;
    signal[t] = t >= 199 && close[t]! > sum50 / 50 && sum50 / 50 > sum200 / 200 ? 1 : 0;
  }
  return { open, high, low, close, atrPct, signal };
}

const series = generateSeries();
const alternatives = [1, 2, 3, 4].map((k) => generateSeries(BARS, SERIES_SEED + k));

/** Exposure (fraction of equity) a trade entered on bar `t` takes; throws for combinations no broker would accept. */
function exposure(config: SweepConfig, atrPct: number): number {
  switch (config.sizing) {
    case 'fixed':
      return config.positionSize;
    case 'risk': {
      const wanted = config.riskPerTrade / config.stopLoss;
      if (wanted > MAX_LEVERAGE) {
        throw new RangeError(
          `config ${config.id}: risking ${config.riskPerTrade * 100}% with a ${config.stopLoss * 100}% stop needs ${wanted.toFixed(1)}x leverage, above the ${MAX_LEVERAGE}x margin limit`,
        );
      }
      return Math.min(wanted, config.positionSize * MAX_LEVERAGE);
    }
    case 'volatility':
      return Math.min(config.riskPerTrade / Math.max(atrPct, 1e-4), config.positionSize);
    default:
      throw new TypeError(
        `config ${String((config as { id?: unknown }).id)}: unknown sizing method ${String((config as { sizing?: unknown }).sizing)}`,
      );
  }
}

/** Backtests one configuration on the series and on the alternative histories. */
export default function backtest(config: SweepConfig): SweepResult {
  if (!(config.stopLoss > 0 && config.takeProfit > 0 && config.positionSize > 0 && config.riskPerTrade > 0)) {
    throw new RangeError(`config ${config.id}: stop loss, take profit, position size and risk must be positive`);
  }
  exposure(config, 0.01); // reject impossible combinations before simulating
  const result = simulate(config, series);
  let robustSharpe = Infinity;
  for (const history of alternatives) robustSharpe = Math.min(robustSharpe, simulate(config, history).sharpe);
  return { ...result, robustSharpe };
}

/** One simulation: long when the trend filter is on, exits at the stop, the target or when the trend ends. */
function simulate(config: SweepConfig, bars: Series): Omit<SweepResult, 'robustSharpe'> {
  const { open, high, low, close, atrPct, signal } = bars;
  let cash = 1;
  let units = 0;
  let entry = 0;
  let stop = 0;
  let target = 0;
  let trades = 0;
  let wins = 0;
  let peak = 1;
  let maxDrawdown = 0;
  let prevEquity = 1;
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  const exit = (price: number): void => {
    cash += units * price * (1 - COST);
    if (price > entry) wins++;
    units = 0;
  };
  for (let t = 1; t < open.length; t++) {
    const o = open[t]!;
    if (units > 0) {
      if (o <= stop || low[t]! <= stop)
        exit(Math.min(o, stop)); // gaps through the stop fill at the open
      else if (o >= target || high[t]! >= target) exit(Math.max(o, target));
      else if (signal[t - 1] === 0) exit(o);
    } else if (signal[t - 1] === 1) {
      const equity = cash;
      const size = exposure(config, atrPct[t - 1]!);
      units = (equity * size) / (o * (1 + COST));
      cash -= units * o * (1 + COST);
      entry = o;
      stop = o * (1 - config.stopLoss);
      target = o * (1 + config.takeProfit);
      trades++;
    }
    const equity = cash + units * close[t]!;
    if (equity <= 0) throw new RangeError(`config ${config.id}: the account was wiped out on bar ${t}`);
    const r = equity / prevEquity - 1;
    sum += r;
    sumSq += r * r;
    n++;
    prevEquity = equity;
    if (equity > peak) peak = equity;
    const drawdown = 1 - equity / peak;
    if (drawdown > maxDrawdown) maxDrawdown = drawdown;
  }
  if (units > 0) exit(close[close.length - 1]!);
  const mean = sum / n;
  const std = Math.sqrt(Math.max(sumSq / n - mean * mean, 0));
  const years = n / DAYS_PER_YEAR;
  const cagr = Math.pow(cash, 1 / years) - 1;
  return {
    ...config,
    sharpe: std > 0 ? (mean / std) * Math.sqrt(DAYS_PER_YEAR) : 0,
    calmar: maxDrawdown > 0 ? cagr / maxDrawdown : 0,
    cagr,
    maxDrawdown,
    trades,
    winRate: trades > 0 ? wins / trades : 0,
    finalEquity: cash,
  };
}
