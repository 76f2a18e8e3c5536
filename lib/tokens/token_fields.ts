/**
 * The fields of a client token as the admin panel accepts them (zod), shared by the tokens API and by
 * a backup's restore, so that a hand-edited backup cannot store a token the panel would refuse.
 *
 * @module
 */
import { z } from "zod";
import { isEnvTokenName } from "./token_store.ts";

/** Schemas of a client token's name, model allow-list and limits. */
export const tokenFields = {
  name: z.string().trim().min(1, "give the token a name").max(100, "use at most 100 characters"),
  models: z.array(z.string().trim().min(1)),
  rpm: z.number().int().positive("must be a positive whole number"),
  dailyTokens: z.number().int().positive("must be a positive whole number"),
  expiresAt: z.number().int().positive("must be epoch milliseconds"),
};

/** A stored token's name: {@link tokenFields}' rules, and not the shape `ALLOWED_TOKENS` names take. */
export const storedTokenName = tokenFields.name.refine(
  (n) => !isEnvTokenName(n),
  "has the shape of the names given to tokens from ALLOWED_TOKENS (token-<last 4>-<hex>); rename it",
);
