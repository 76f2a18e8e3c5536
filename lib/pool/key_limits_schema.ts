/**
 * A key's configured limits per model as the admin panel accepts them (zod), shared by the keys API and
 * by a backup's restore: `{ "<model>": { rpm?, rpd? } }`, each a positive whole number of requests per
 * minute or per day.
 *
 * @module
 */
import { z } from "zod";

/** Schema of a key's limits per model. */
export const keyLimitsSchema = z.record(
  z.string(),
  z.object({ rpm: z.number().int().positive().optional(), rpd: z.number().int().positive().optional() }),
);
