/**
 * Settings of the Gemini Live API sessions (WebSocket) the gateway relays: on/off, the largest frame
 * accepted from a client, the time a client has to send its setup message, and the most sessions one
 * client token may hold open. Merged into the main settings schema by `lib/settings_schema.ts`.
 *
 * @module
 */
import { z } from "zod";
import { settingMeta } from "../config/describe.ts";

/** Zod schema fragment with the Live API settings (each field described, defaults set, section registered). */
export const liveSettingsSchema = z.object({
  liveEnabled: z.boolean().default(true).describe(
    "Serve Gemini Live API sessions (WebSocket, /ws/google.ai.generativelanguage.*.GenerativeService." +
      "BidiGenerateContent) and ephemeral tokens (POST /v1alpha/auth_tokens).",
  ).register(settingMeta, { group: "live" }),
  liveMaxFrameBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024).describe(
    "Largest WebSocket message (bytes) a Live client may send; a larger one closes the session with 1009.",
  ).register(settingMeta, { group: "live" }),
  liveSetupTimeoutMs: z.number().int().min(100).default(30_000).describe(
    "Time (ms) a Live client has to send its setup message after the WebSocket opens; a session still " +
      "without one is closed (1008) and frees its place under LIVE_MAX_SESSIONS_PER_TOKEN.",
  ).register(settingMeta, { group: "live" }),
  liveMaxSessionsPerToken: z.number().int().min(0).default(0).describe(
    "Most Live sessions one client token may hold open at once on this instance (0 = no limit).",
  ).register(settingMeta, { group: "live" }),
});

/** Parsed Live API settings. */
export type LiveSettings = z.infer<typeof liveSettingsSchema>;
