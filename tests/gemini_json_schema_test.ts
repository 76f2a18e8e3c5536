/**
 * Client JSON Schemas made acceptable to Gemini: local references inlined (recursive ones cut at a
 * depth), reference-only keywords dropped, client property names never touched.
 */
import assert from "node:assert/strict";
import { toGeminiJsonSchema } from "../lib/gemini/json_schema.ts";

/** The shape MCP servers send (a zod-to-json-schema export with `$defs` and a recursive node). */
const MCP_SCHEMA = {
  $schema: "http://json-schema.org/draft-07/schema#",
  type: "object",
  properties: {
    path: { type: "string", description: "File to edit" },
    edits: { type: "array", items: { $ref: "#/$defs/Edit" } },
    tree: { $ref: "#/$defs/Node", description: "Directory tree" },
    definitions: { type: "string", description: "A property that happens to be called definitions" },
  },
  required: ["path", "edits"],
  additionalProperties: false,
  $defs: {
    Edit: {
      type: "object",
      properties: { oldText: { type: "string" }, newText: { type: "string" } },
      required: ["oldText", "newText"],
    },
    Node: {
      type: "object",
      properties: { name: { type: "string" }, children: { type: "array", items: { $ref: "#/$defs/Node" } } },
    },
  },
};

Deno.test("an MCP-style schema: $refs inlined, $defs and $schema dropped, property names kept", () => {
  const frozen = structuredClone(MCP_SCHEMA);
  const out = toGeminiJsonSchema(MCP_SCHEMA, { maxRecursion: 2 }) as Record<string, unknown>;
  assert.deepEqual(MCP_SCHEMA, frozen, "the input is never mutated");
  assert.equal(JSON.stringify(out).includes("$ref"), false);
  assert.equal("$defs" in out || "$schema" in out, false);
  const props = out.properties as Record<string, Record<string, unknown>>;
  assert.deepEqual(props.edits.items, MCP_SCHEMA.$defs.Edit);
  assert.deepEqual(props.definitions, MCP_SCHEMA.properties.definitions);
  assert.equal(props.tree.description, "Directory tree", "a $ref's sibling description is kept");
  // Recursion: two levels of Node, then an open schema saying it was cut.
  const level1 = props.tree.properties as Record<string, Record<string, unknown>>;
  const level2 = (level1.children.items as Record<string, unknown>).properties as Record<
    string,
    Record<string, unknown>
  >;
  const cut = level2.children.items as Record<string, unknown>;
  assert.match(String(cut.description), /recursive #\/\$defs\/Node cut after 2 levels/);
  assert.equal("properties" in cut, false);
});

Deno.test("draft-04 definitions, JSON pointers, unresolved refs and non-object schemas", () => {
  const out = toGeminiJsonSchema({
    type: "object",
    properties: {
      a: { $ref: "#/definitions/A" },
      b: { $ref: "#/properties/a" },
      c: { $ref: "https://example.com/remote.json" },
    },
    definitions: { A: { type: "integer", minimum: 0 } },
  }) as Record<string, Record<string, Record<string, unknown>>>;
  assert.deepEqual(out.properties.a, { type: "integer", minimum: 0 });
  assert.deepEqual(out.properties.b, { type: "integer", minimum: 0 });
  assert.match(String(out.properties.c.description), /unresolved reference https:\/\/example.com/);
  assert.equal(toGeminiJsonSchema(true), true);
});
