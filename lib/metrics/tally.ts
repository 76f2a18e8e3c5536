/**
 * Counting for `prom-client` without its per-call cost on the request path. `prom-client` hashes and
 * validates the labels of every `inc` and `observe` (about a microsecond each, several per request);
 * here a request adds to a plain cell found by one `Map` lookup, and the cells reach `prom-client`
 * only when the registry is read (a scrape, a snapshot):
 *
 * - {@link CounterTally}: increments per label set, added into a `prom-client` Counter from its
 *   `collect()` (label sets in the order they were first counted, as direct `inc` calls would be);
 * - {@link TallyHistogram}: a histogram registered on a `prom-client` Registry that keeps its bucket
 *   counts in plain arrays and reads out exactly what a `prom-client` Histogram fed the same values
 *   reads out (`get()`; the text format and the aggregation over gateways read that).
 *
 * Source of the shapes: prom-client 15 (`lib/counter.js`, `lib/histogram.js`), and Prometheus' text
 * format (https://prometheus.io/docs/instrumenting/exposition_formats/).
 *
 * @module
 */
import client from "prom-client";

/** Label values by label name. */
export type Labels<L extends string> = Record<L, string>;

/** The labels of `values` (in `names` order). */
function labelsOf<L extends string>(names: readonly L[], values: readonly string[]): Labels<L> {
  const labels = {} as Labels<L>;
  names.forEach((name, i) => labels[name] = values[i]);
  return labels;
}

/**
 * Cells by label set: one `Map` per label, nested in label order, so finding a label set's cell hashes
 * the label values themselves (strings V8 keeps their hash in) and builds no key string. `list` keeps
 * the cells in the order their label sets first came.
 */
class CellIndex<L extends string, C> {
  readonly #root = new Map<string, unknown>();
  readonly list: C[] = [];

  constructor(private readonly names: readonly L[], private readonly make: (labels: Labels<L>) => C) {}

  /** The cell of the label set `values` (one per label name, in order), made the first time. */
  at(values: readonly string[]): C {
    let map = this.#root;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      let next = map.get(values[i]) as Map<string, unknown> | undefined;
      if (!next) map.set(values[i], next = new Map());
      map = next;
    }
    let cell = map.get(values[last]) as C | undefined;
    if (cell === undefined) {
      cell = this.make(labelsOf(this.names, values));
      map.set(values[last], cell);
      this.list.push(cell);
    }
    return cell;
  }

  /** Forgets every cell. */
  clear(): void {
    this.#root.clear();
    this.list.length = 0;
  }
}

/** Increments of one counter by label set, waiting to be added into the counter. */
export class CounterTally<L extends string> {
  readonly #cells: CellIndex<L, { labels: Labels<L>; n: number }>;

  /** `names`: the counter's label names, in the order {@link add} gets their values. */
  constructor(names: readonly L[]) {
    this.#cells = new CellIndex(names, (labels) => ({ labels, n: 0 }));
  }

  /** Adds `n` (default 1) to the label set `values` (one per label name, in order). */
  add(values: readonly string[], n = 1): void {
    this.#cells.at(values).n += n;
  }

  /** Adds every waiting increment into `counter` (call it from the counter's `collect()`). */
  foldInto(counter: client.Counter<L>): void {
    for (const cell of this.#cells.list) {
      if (cell.n === 0) continue;
      counter.inc(cell.labels, cell.n);
      cell.n = 0;
    }
  }
}

/** One label set's observations: counts per bucket (not cumulative; the last is above every bound). */
interface HistogramCell<L extends string> {
  labels: Labels<L>;
  counts: number[];
  sum: number;
  count: number;
}

/** Options for {@link TallyHistogram} (as `prom-client`'s Histogram takes them). */
export interface TallyHistogramOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Upper bounds of the buckets, ascending. */
  buckets: readonly number[];
  registers: client.Registry[];
}

/** One value of a histogram as `prom-client` reads it out. */
interface HistogramValue {
  value: number;
  metricName: string;
  exemplar: null | undefined;
  labels: Record<string, string | number>;
}

/**
 * A Prometheus histogram in plain arrays, registered on `prom-client` registries like one of theirs.
 * {@link observe} adds a value to a label set; `get()` reads out what `prom-client`'s Histogram would.
 */
export class TallyHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly labelNames: readonly L[];
  readonly #bounds: readonly number[];
  readonly #cells: CellIndex<L, HistogramCell<L>>;

  constructor(o: TallyHistogramOptions<L>) {
    this.name = o.name;
    this.help = o.help;
    this.labelNames = o.labelNames;
    this.#bounds = o.buckets;
    const size = o.buckets.length + 1;
    this.#cells = new CellIndex(
      o.labelNames,
      (labels) => ({ labels, counts: new Array(size).fill(0), sum: 0, count: 0 }),
    );
    // A registry takes any object that reads out like its metrics (prom-client's own aggregated
    // registry registers plain objects the same way); its type names only its own classes.
    for (const registry of o.registers) registry.registerMetric(this as unknown as client.Metric<L>);
  }

  /** Observes `value` for the label set `values` (one per label name, in order). */
  observe(values: readonly string[], value: number): void {
    const cell = this.#cells.at(values);
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    cell.counts[i]++;
    cell.sum += value;
    cell.count++;
  }

  /** Forgets every observation. */
  reset(): void {
    this.#cells.clear();
  }

  /** The histogram as `prom-client`'s `Histogram.get()` reads it out. */
  get(): Promise<
    { name: string; help: string; type: "histogram"; aggregator: "sum"; values: HistogramValue[] }
  > {
    const values: HistogramValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const cell of this.#cells.list) {
      let acc = 0;
      this.#bounds.forEach((le, i) => {
        acc += cell.counts[i];
        values.push({ value: acc, metricName: bucket, exemplar: null, labels: { le, ...cell.labels } });
      });
      values.push({
        value: cell.count,
        metricName: bucket,
        exemplar: null,
        labels: { le: "+Inf", ...cell.labels },
      });
      values.push({
        value: cell.sum,
        metricName: `${this.name}_sum`,
        exemplar: undefined,
        labels: { ...cell.labels },
      });
      values.push({
        value: cell.count,
        metricName: `${this.name}_count`,
        exemplar: undefined,
        labels: { ...cell.labels },
      });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }
}
