/**
 * The browser runtime for islands (bundle entry; never imported by the server). {@link boot} walks
 * the body's comments, pairs each `<!--gw-island:NAME:INDEX-->` with its `<!--/gw-island-->`, and
 * hydrates the island's component with its revived props into exactly that range of nodes.
 *
 * @module
 */
import { type ContainerNode, h, hydrate } from "preact";
import { reviveIslandProps } from "./revive.ts";
import type { IslandPayload } from "./serialize.ts";

const START = "gw-island:";
const END = "/gw-island";

interface Range {
  name: string;
  index: number;
  start: Comment;
  end: Comment;
}

/** Hydrates every island on the page. `components` maps island names to component functions. */
export function boot(components: Record<string, unknown>, payload: IslandPayload): void {
  const props = reviveIslandProps(payload);
  let hydrated = 0;
  for (const range of findRanges(document.body)) {
    const component = components[range.name];
    if (typeof component !== "function") {
      console.error(
        `Island ${range.name} has no component in the boot script; rebuild with \`deno task build\`.`,
      );
      continue;
    }
    if (range.start.parentNode !== range.end.parentNode || !range.start.parentNode) {
      console.error(
        `Island ${range.name}: its start and end markers ended up in different elements. The browser ` +
          "moved them because of invalid HTML nesting (for example a <div> inside a <p>); fix the markup. " +
          "Skipping this island.",
      );
      continue;
    }
    try {
      hydrate(
        h(component as (p: Record<string, unknown>) => null, props[range.index] ?? {}),
        rangeRoot(range),
      );
      hydrated++;
    } catch (err) {
      console.error(`Island ${range.name} failed to hydrate:`, err);
    }
  }
  document.body.dataset.islandsHydrated = String(hydrated);
}

function findRanges(root: Node): Range[] {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_COMMENT);
  const open: Array<Omit<Range, "end">> = [];
  const ranges: Range[] = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const comment = node as Comment;
    const text = comment.data;
    if (text.startsWith(START)) {
      const [name, index] = text.slice(START.length).split(":");
      open.push({ name, index: Number(index), start: comment });
    } else if (text === END) {
      const start = open.pop();
      if (!start) console.error("Found an island end marker without a start marker; ignoring it.");
      else if (open.length === 0) ranges.push({ ...start, end: comment });
    }
  }
  for (const start of open) console.error(`Island ${start.name} has no end marker; skipping it.`);
  return ranges;
}

/** A stand-in parent that exposes only the nodes between the two markers to Preact. */
function rangeRoot({ start, end }: Range): ContainerNode {
  const parent = start.parentNode!;
  const nodes = (): ChildNode[] => {
    const list: ChildNode[] = [];
    for (let n = start.nextSibling; n && n !== end; n = n.nextSibling) list.push(n);
    return list;
  };
  const root = {
    nodeType: 1,
    parentNode: parent,
    namespaceURI: (parent as Element).namespaceURI,
    get firstChild() {
      return start.nextSibling === end ? null : start.nextSibling;
    },
    get childNodes() {
      return nodes();
    },
    contains: (other: Node | null) => other !== null && nodes().some((n) => n === other || n.contains(other)),
    insertBefore: (node: Node, ref: Node | null) => parent.insertBefore(node, ref ?? end),
    appendChild: (node: Node) => parent.insertBefore(node, end),
    removeChild: (node: Node) => parent.removeChild(node),
  };
  return root as unknown as ContainerNode;
}
