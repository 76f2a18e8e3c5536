/**
 * Input items as `GET /v1/responses/{id}/input_items` lists them, in the shape of OpenAI's
 * `ResponseItem`: a message's `content` is always a list of parts (`input_text` for user, system and
 * developer messages, `output_text` for assistant ones), never the bare string a request may have used
 * (`input: "hello"`, or a message whose `content` is a string); typed clients read
 * `item.content[0].text`. Other items are listed as they were stored.
 *
 * Source: `openai` `ResponseInputMessageItem`, `ResponseOutputMessage`, `InputItemsPage`.
 *
 * @module
 */
import type { MappedItem } from "./schemas.ts";

/** One item of the list: the stored item, a message's string content as one text part. */
export function listedInputItem<T extends MappedItem>(item: T): T {
  if (item.type !== "message" || typeof item.content !== "string") return item;
  const part = item.role === "assistant"
    ? { type: "output_text", text: item.content, annotations: [] }
    : { type: "input_text", text: item.content };
  return { ...item, content: [part] };
}
