/**
 * A time-series line chart drawn with uPlot (bundled into the dashboard island; its CSS is served
 * as `/static/uplot.css`). Colors come from the admin stylesheet's variables, so the chart follows
 * light and dark mode; the width follows the container.
 *
 * @module
 */
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import { formatAxisTime, formatDateTime } from "../format.ts";

/** One line of a chart. */
export interface ChartSeries {
  label: string;
  /** CSS variable holding the color, e.g. `--ok`. */
  colorVar: string;
  values: Array<number | null>;
  /** Fill under the line. */
  fill?: boolean;
  /** Always draw points (for sparse series such as latency, where empty buckets are gaps). */
  points?: boolean;
}

/** Props of {@link TimeChart}. */
export interface TimeChartProps {
  /** Bucket start times (epoch ms). */
  times: number[];
  series: ChartSeries[];
  /** Formats y-axis values. */
  format?: (v: number) => string;
  height?: number;
  /** Accessible description. */
  label: string;
}

const cssVar = (name: string) =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";

function withAlpha(color: string, alpha: number): string {
  const m = color.match(/^#([0-9a-f]{6})$/i);
  if (!m) return color;
  const n = parseInt(m[1], 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** The chart (client only; renders an empty box on the server). */
export function TimeChart(props: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join("|");
  const [dark, setDark] = useState(false);
  useEffect(() => {
    // Colors are read from CSS variables when the chart is built: rebuild when the theme flips.
    const media = matchMedia("(prefers-color-scheme: dark)");
    const update = () => setDark(media.matches);
    update();
    media.addEventListener("change", update);
    return () => media.removeEventListener("change", update);
  }, []);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const grid = cssVar("--border");
    const text = cssVar("--text-3");
    const axis = {
      stroke: text,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
      font: "11px system-ui, sans-serif",
    };
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height: props.height ?? 220,
      cursor: { drag: { x: false, y: false } },
      legend: { live: false },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        {
          ...axis,
          // Times in the page's locale (uPlot's own labels are English).
          values: (_u, ticks) => {
            const step = ticks.length > 1 ? (ticks[1] - ticks[0]) * 1000 : 0;
            return ticks.map((v) => formatAxisTime(v * 1000, step));
          },
        },
        {
          ...axis,
          size: 56,
          values: (_u, ticks) => ticks.map((v) => props.format ? props.format(v) : String(v)),
        },
      ],
      series: [
        { value: (_u: uPlot, v: number | null) => v === null ? "—" : formatDateTime(v * 1000) },
        ...props.series.map((s) => {
          const color = cssVar(s.colorVar);
          return {
            label: s.label,
            stroke: color,
            width: 2,
            fill: s.fill ? withAlpha(color, 0.12) : undefined,
            spanGaps: false,
            ...(s.points ? { points: { show: true, size: 5 } } : {}),
            value: (_u: uPlot, v: number | null) =>
              v === null ? "—" : props.format ? props.format(v) : String(v),
          };
        }),
      ],
    };
    plot.current = new uPlot(opts, toData(props), el);
    const resize = new ResizeObserver(() => {
      if (plot.current && el.clientWidth) {
        plot.current.setSize({ width: el.clientWidth, height: props.height ?? 220 });
      }
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape, dark]);

  useEffect(() => {
    plot.current?.setData(toData(props));
  }, [props.times, props.series]);

  return <div class="chart" ref={box} role="img" aria-label={props.label} />;
}

function toData(p: TimeChartProps): uPlot.AlignedData {
  return [p.times.map((t) => t / 1000), ...p.series.map((s) => s.values)] as uPlot.AlignedData;
}
