/**
 * The kept state (thought signature, Gemini's call id) of the tool calls a conversation names by the
 * ids the gateway gave them (`call_<ref>`, `toolu_<ref>`), found in one recall of
 * {@link ThoughtSignatures} for the whole request.
 *
 * @module
 */
import { toolCallRef } from "./tool_call_ids.ts";
import type { SignedCall, ThoughtSignatures } from "./thought_signatures.ts";

/** The kept state of a tool call by its id (undefined for ids the gateway did not make, or expired ones). */
export type KeptCalls = (id: string) => SignedCall | undefined;

/** Recalls every call of `ids` at once; without `signatures` nothing is known. */
export async function recallCalls(
  ids: Iterable<string>,
  signatures?: Pick<ThoughtSignatures, "recall">,
): Promise<KeptCalls> {
  const refs = [...ids].flatMap((id) => toolCallRef(id) ?? []);
  if (!refs.length || !signatures) return () => undefined;
  const recalled = await signatures.recall({ calls: refs });
  return (id) => {
    const ref = toolCallRef(id);
    return ref ? recalled.call(ref) : undefined;
  };
}
