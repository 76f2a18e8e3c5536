/**
 * Server rendering with islands. While {@link renderWithIslands} runs, every vnode whose component
 * is a registered island is rendered between two HTML comment markers,
 * `<!--gw-island:NAME:INDEX-->` ... `<!--/gw-island-->`, and its props are collected for the boot
 * script. Islands inside islands render as plain components. Uses only Preact's public
 * `options.vnode` hook; rendering is synchronous, so the per-render state is safe.
 *
 * @module
 */
import { type ComponentChildren, createContext, Fragment, h, type JSX, options, type VNode } from "preact";
import { useContext } from "preact/hooks";
import { renderToString } from "preact-render-to-string";
import type { IslandInfo, IslandRegistry } from "./registry.ts";
import { type IslandPayload, PropsCollector } from "./serialize.ts";

/** Prefix of an island start marker comment. */
export const MARKER_START = "gw-island:";
/** Text of an island end marker comment. */
export const MARKER_END = "/gw-island";

/** What one render produced. */
export interface IslandRenderResult {
  /** The rendered HTML, with island markers. */
  html: string;
  /** Islands used by this render (each once), in first-use order. */
  islands: IslandInfo[];
  /** Props payload for the boot script, or null when no island was rendered. */
  payload: IslandPayload | null;
}

interface RenderState {
  registry: IslandRegistry;
  collector: PropsCollector;
  used: Map<string, IslandInfo>;
}

let active: RenderState | null = null;
let bypass = false;
const wrappers = new Map<unknown, (props: Record<string, unknown>) => VNode>();
const InsideIsland = createContext(false);
// Fragment accepts UNSTABLE_comment in preact-render-to-string 6; its public type does not say so.
const CommentFragment = Fragment as unknown as (props: { UNSTABLE_comment: string }) => VNode;
type AnyComponent = (props: Record<string, unknown>) => ComponentChildren;

const HOOK_FLAG = Symbol.for("gw.islands.vnodeHook");
const hookedOptions = options as typeof options & { [HOOK_FLAG]?: true };
if (!hookedOptions[HOOK_FLAG]) {
  hookedOptions[HOOK_FLAG] = true;
  const previous = options.vnode;
  options.vnode = (vnode) => {
    if (active && !bypass && typeof vnode.type === "function") {
      const info = active.registry.get(vnode.type);
      if (info) vnode.type = wrapperFor(vnode.type as unknown as AnyComponent, info) as typeof vnode.type;
    }
    previous?.(vnode);
  };
}

function plain(component: AnyComponent, props: Record<string, unknown>): VNode {
  bypass = true;
  try {
    return h(component, props);
  } finally {
    bypass = false;
  }
}

function wrapperFor(component: AnyComponent, info: IslandInfo) {
  let wrapper = wrappers.get(component);
  if (wrapper) return wrapper;
  wrapper = function IslandBoundary(props: Record<string, unknown>): VNode {
    const inside = useContext(InsideIsland);
    const state = active;
    if (inside || !state) return plain(component, props);
    const index = state.collector.add(info.name, props);
    state.used.set(info.name, info);
    return h(
      Fragment,
      null,
      h(CommentFragment, { UNSTABLE_comment: `${MARKER_START}${info.name}:${index}` }),
      h(InsideIsland.Provider, { value: true }, plain(component, props)),
      h(CommentFragment, { UNSTABLE_comment: MARKER_END }),
    );
  };
  wrappers.set(component, wrapper);
  return wrapper;
}

function isVNode(value: unknown): value is VNode {
  return value !== null && typeof value === "object" && Object.hasOwn(value, "constructor") &&
    (value as { constructor: unknown }).constructor === undefined && "type" in value && "props" in value;
}

/**
 * Vnodes created before the render started (the tree passed in, and vnodes in its props) did not
 * pass through the hook: swap their island types here. Vnodes created while rendering are handled
 * by the hook.
 */
function markIslands(value: unknown, registry: IslandRegistry, seen: Set<unknown>): void {
  if (Array.isArray(value)) {
    for (const item of value) markIslands(item, registry, seen);
    return;
  }
  if (!isVNode(value) || seen.has(value)) return;
  seen.add(value);
  if (typeof value.type === "function") {
    const info = registry.get(value.type);
    if (info) value.type = wrapperFor(value.type as unknown as AnyComponent, info) as typeof value.type;
  }
  for (const prop of Object.values(value.props as Record<string, unknown>)) markIslands(prop, registry, seen);
}

/**
 * Renders `vnode` to HTML, marking islands from `registry`. Island prop errors (functions,
 * class instances, ...) are thrown as TypeErrors naming the prop.
 */
export function renderWithIslands(vnode: JSX.Element, registry: IslandRegistry): IslandRenderResult {
  if (active) throw new Error("renderWithIslands is not re-entrant; render pages one at a time.");
  const state: RenderState = { registry, collector: new PropsCollector(), used: new Map() };
  active = state;
  let html: string;
  try {
    markIslands(vnode, registry, new Set());
    html = renderToString(vnode);
  } finally {
    active = null;
  }
  return {
    html,
    islands: [...state.used.values()],
    payload: state.collector.size > 0 ? state.collector.payload() : null,
  };
}
