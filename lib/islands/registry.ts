/**
 * The island registry: which component functions are islands, under which name, from which file.
 * The app builds it from a static manifest of its island modules (generated at build time, never a
 * run-time crawl) and passes it to the renderer.
 *
 * @module
 */

/** One island: an exported component of a file in `islands/`. */
export interface IslandInfo {
  /** Unique island name used in markers and the boot script, e.g. `KeyStates`. */
  name: string;
  /** Export name in its module (`default` for default exports). */
  exportName: string;
  /** Path of its module from the project root, e.g. `islands/key_states.tsx`. */
  file: string;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Maps island component functions to their {@link IslandInfo}. */
export class IslandRegistry {
  #byComponent = new Map<unknown, IslandInfo>();
  #byName = new Map<string, IslandInfo>();

  /**
   * Registers every exported function of every module. `modules` maps a root-relative file path
   * (`islands/key_states.tsx`) to the module namespace. Throws when two islands share a name.
   */
  constructor(modules: Record<string, Record<string, unknown>>) {
    for (const [file, mod] of Object.entries(modules)) {
      for (const [exportName, value] of Object.entries(mod)) {
        if (typeof value !== "function") continue;
        const name = exportName === "default" ? pascalFromFile(file) : exportName;
        if (!IDENTIFIER.test(name)) {
          throw new Error(`Island name "${name}" from ${file} is not an identifier; rename the export.`);
        }
        const clash = this.#byName.get(name);
        if (clash) {
          throw new Error(
            `Island name "${name}" is exported by both ${clash.file} and ${file}; rename one of them.`,
          );
        }
        const info = { name, exportName, file };
        this.#byName.set(name, info);
        this.#byComponent.set(value, info);
      }
    }
  }

  /** The island info for a component function, or undefined when it is not an island. */
  get(component: unknown): IslandInfo | undefined {
    return this.#byComponent.get(component);
  }
}

function pascalFromFile(file: string): string {
  const base = file.split("/").pop()!.replace(/\.[jt]sx?$/, "");
  return base.split(/[^A-Za-z0-9]+/).filter(Boolean).map((p) => p[0].toUpperCase() + p.slice(1)).join("");
}
