/**
 * The full run-time settings schema: the gateway core's settings plus the feature settings. This is
 * what the admin panel's settings form is made from.
 *
 * @module
 */
import type { z } from "zod";
import { runtimeSettingsSchema } from "./schema.ts";
import { featureSettingsSchema } from "../features/settings.ts";

/** Every setting that can change at run time. */
export const settingsSchema = runtimeSettingsSchema.extend(featureSettingsSchema.shape);

/** Parsed run-time settings. */
export type Settings = z.infer<typeof settingsSchema>;
