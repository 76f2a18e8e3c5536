/**
 * The full run-time settings schema: the gateway core's settings (`config/schema.ts`) plus the feature
 * (`features/settings.ts`) and Live API (`live/settings.ts`) settings. This is what the admin panel's
 * settings form is made from. It sits above the folders it composes: they register their fields'
 * metadata with `config/describe.ts`, so `config/` cannot import them back.
 *
 * @module
 */
import type { z } from "zod";
import { runtimeSettingsSchema } from "./config/schema.ts";
import { featureSettingsSchema } from "./features/settings.ts";
import { liveSettingsSchema } from "./live/settings.ts";

/** Every setting that can change at run time. */
export const settingsSchema = runtimeSettingsSchema.extend(featureSettingsSchema.shape).extend(
  liveSettingsSchema.shape,
);

/** Parsed run-time settings. */
export type Settings = z.infer<typeof settingsSchema>;
