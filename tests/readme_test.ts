import assert from "node:assert/strict";
import { settingsSection } from "../scripts/readme_settings.ts";

Deno.test("the README documents every setting as the schema defines it (run `deno task docs` to update)", () => {
  const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));
  assert.equal(readme, settingsSection(readme));
  for (const cmd of ["npx -y deno@2 task start", "npx -y deno@2 task test"]) {
    assert.ok(readme.includes(cmd), cmd);
  }
});
