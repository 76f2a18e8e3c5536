/**
 * The API dialects the gateway speaks, in the order they claim requests on a shared prefix (`/v1`).
 * Add a dialect here after writing its `routes/<dialect>.ts` and `lib/<dialect>/` mapping.
 *
 * @module
 */
import type { Edge } from "../lib/pipeline/edge.ts";
import { geminiEdge } from "./gemini.ts";
import { openAIEdge } from "./openai.ts";
import { anthropicEdge } from "./anthropic.ts";
import { responsesEdge } from "./responses.ts";

/** Every edge; on a shared prefix the first that claims a request serves it, the last one takes the rest. */
export const DIALECTS: readonly Edge[] = [geminiEdge, anthropicEdge, responsesEdge, openAIEdge];
