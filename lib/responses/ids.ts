/**
 * Ids of the Responses route. A response is `resp_<24 alnum>`; the items of its output are
 * `<kind>_<the same 24>_<n>` (`rs_…` reasoning, `msg_…` message, `fc_…` function call, `ctc_…` custom
 * tool call, `ws_…` web search), and its input items without an id of their own get
 * `<kind>_<the same 24>_i<n>`. So an `item_reference` (what the Vercel AI SDK sends back for stored
 * items) names the response that holds the item, and no index is needed to find it.
 *
 * @module
 */
import { randomAlnum } from "../gemini/tool_call_ids.ts";

const ITEM_RE = /^[a-z]+_([A-Za-z0-9]{24})_i?\d+$/;

/** A new response id. */
export function newResponseId(): string {
  return `resp_${randomAlnum(24)}`;
}

/** The id of item `n` of response `responseId` (`input` items are numbered apart). */
export function itemId(o: { responseId: string; kind: string; n: number; input?: boolean }): string {
  return `${o.kind}_${o.responseId.slice(5)}_${o.input ? "i" : ""}${o.n}`;
}

/** The response an item id made by {@link itemId} belongs to, or undefined. */
export function responseOfItem(id: string): string | undefined {
  const m = ITEM_RE.exec(id);
  return m ? `resp_${m[1]}` : undefined;
}
