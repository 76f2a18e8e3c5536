/**
 * The registry of this project's islands, built from the generated static manifest.
 *
 * @module
 */
import { islandModules } from "./island_manifest.ts";
import { IslandRegistry } from "./registry.ts";

/** Every island in `islands/` (from `island_manifest.ts`). */
export const islandRegistry: IslandRegistry = new IslandRegistry(islandModules);
