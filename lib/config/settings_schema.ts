/**
 * The full run-time settings schema: the gateway core's settings plus the feature and Live API settings. This is
 * what the admin panel's settings form is made from.
 *
 * @module
 */
import type { z } from "zod";
import { runtimeSettingsSchema } from "./schema.ts";
import { featureSettingsSchema } from "../features/settings.ts";
import { liveSettingsSchema } from "../live/settings.ts";

/** Every setting that can change at run time. */
export const settingsSchema = runtimeSettingsSchema.extend(featureSettingsSchema.shape).extend(
  liveSettingsSchema.shape,
);

/** Parsed run-time settings. */
export type Settings = z.infer<typeof settingsSchema>;
