import assert from "node:assert/strict";
import { type Signal, signal } from "@preact/signals";
import { h } from "preact";
import { renderToString } from "preact-render-to-string";
import { bootScript } from "../lib/islands/boot_script.ts";
import type { BuildInfo } from "../lib/islands/build_info.ts";
import { renderDocument } from "../lib/islands/document.ts";
import { IslandRegistry } from "../lib/islands/registry.ts";
import { renderWithIslands } from "../lib/islands/render.ts";
import { reviveIslandProps } from "../lib/islands/revive.ts";
import { jsonForScript, PropsCollector } from "../lib/islands/serialize.ts";
import type { ApiKey } from "../lib/admin/api_types.ts";
import { parseKeyQuery } from "../lib/admin/key_query.ts";
import { KeysPage } from "../routes/admin/keys_page.tsx";
import { islandModules } from "../routes/admin/island_manifest.ts";

function Counter(props: { count: unknown; text?: string }) {
  return h("p", { class: "counter" }, String(props.text ?? ""));
}
function Outer(props: { label: string }) {
  return h("section", null, props.label, h(Counter, { count: 1 }));
}
const registry = new IslandRegistry({ "islands/test_islands.tsx": { Counter, Outer, NOT_A_COMPONENT: 1 } });
const build: BuildInfo = {
  buildId: "b1",
  clientUrl: "/static/build/b1/lib/islands/client.js",
  islandUrls: { "islands/test_islands.tsx": "/static/build/b1/islands/test_islands.js" },
};

Deno.test("a page without islands gets no script at all", () => {
  const html = renderDocument({ title: "Plain", body: h("main", null, h("p", null, "hi")), registry, build });
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /modulepreload/);
  assert.match(
    html,
    /^<!doctype html><html lang="en"><head>.*<title>Plain<\/title>.*<body><main><p>hi<\/p><\/main><\/body><\/html>$/,
  );
});

Deno.test("islands are wrapped in markers pointing at their props", () => {
  const result = renderWithIslands(
    h("div", null, h(Counter, { count: 1, text: "a" }), h(Counter, { count: 2, text: "b" })),
    registry,
  );
  assert.equal(
    result.html,
    '<div><!--gw-island:Counter:0--><p class="counter">a</p><!--/gw-island-->' +
      '<!--gw-island:Counter:1--><p class="counter">b</p><!--/gw-island--></div>',
  );
  assert.deepEqual(result.payload, {
    props: [{ count: 1, text: "a" }, { count: 2, text: "b" }],
    signals: [],
  });
  assert.deepEqual(result.islands.map((i) => i.name), ["Counter"]);
});

Deno.test("an island inside an island renders as a plain component", () => {
  const result = renderWithIslands(h(Outer, { label: "x" }), registry);
  assert.equal(result.html.match(/gw-island:/g)?.length, 1);
  assert.match(
    result.html,
    /^<!--gw-island:Outer:0--><section>x<p class="counter"><\/p><\/section><!--\/gw-island-->$/,
  );
  assert.deepEqual(result.payload?.props, [{ label: "x" }]);
});

Deno.test("outside renderWithIslands, islands render without markers", () => {
  assert.equal(renderToString(h(Counter, { count: 1, text: "z" })), '<p class="counter">z</p>');
});

Deno.test("props JSON cannot break out of the script tag", () => {
  const evil = "</script><script>alert(1)</script><!-- \u2028 </SCRIPT";
  const result = renderWithIslands(h(Counter, { count: 0, text: evil }), registry);
  const script = bootScript(result, { build, nonce: "n0" });
  assert.equal(script.match(/<\/script/gi)?.length, 1, "only the closing tag");
  assert.ok(script.endsWith("</script>"));
  assert.doesNotMatch(script, /<!--/);
  assert.doesNotMatch(script, /\u2028/);
  assert.match(script, /^<script type="module" nonce="n0">/);
  const json = script.slice(script.lastIndexOf("}, ") + 3, script.lastIndexOf(");"));
  assert.equal(reviveIslandProps(JSON.parse(json))[0].text, evil);
  assert.equal(jsonForScript("<!--"), '"\\u003c!--"');
});

Deno.test("boot script imports the runtime and each used island module once", () => {
  const result = renderWithIslands(
    h("div", null, h(Counter, { count: 1 }), h(Outer, { label: "o" })),
    registry,
  );
  const script = bootScript(result, { build });
  assert.equal(script.match(/import \* as/g)?.length, 1);
  assert.match(script, /import \{ boot \} from "\/static\/build\/b1\/lib\/islands\/client\.js";/);
  assert.match(script, /boot\(\{ "Counter": \$0\["Counter"\], "Outer": \$0\["Outer"\] \}/);
  assert.throws(
    () => bootScript(result, { build: { ...build, islandUrls: {} } }),
    /Counter \(islands\/test_islands\.tsx\) is not in build b1; run `deno task build`/,
  );
});

Deno.test("signals are sent as values and the same signal is revived once", () => {
  const shared = signal(5);
  const other = signal({ n: 1 });
  const result = renderWithIslands(
    h("div", null, h(Counter, { count: shared }), h(Counter, { count: { nested: [shared, other] } })),
    registry,
  );
  assert.deepEqual(result.payload, {
    props: [{ count: { $gwSignal: 0 } }, { count: { nested: [{ $gwSignal: 0 }, { $gwSignal: 1 }] } }],
    signals: [5, { n: 1 }],
  });
  const [a, b] = reviveIslandProps(result.payload!);
  const sigA = a.count as Signal<number>;
  const nested = (b.count as { nested: Signal<unknown>[] }).nested;
  assert.equal(sigA, nested[0], "one revived signal for one server signal");
  assert.notEqual(nested[0], nested[1]);
  assert.equal(sigA.value, 5);
  assert.deepEqual(nested[1].value, { n: 1 });
  sigA.value = 6;
  assert.equal(nested[0].value, 6);
});

Deno.test("props that cannot be sent are refused with the prop's path", () => {
  const collector = new PropsCollector();
  assert.throws(() => collector.add("X", { onClick: () => {} }), /X props\.onClick: it is a function/);
  assert.throws(() => collector.add("X", { when: new Map() }), /X props\.when: it is a class instance/);
  assert.throws(() => collector.add("X", { child: h("b", null) }), /X props\.child: it is JSX/);
  assert.throws(() => collector.add("X", { n: [1, NaN] }), /X props\.n\[1\]: it is non-finite number NaN/);
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  assert.throws(() => collector.add("X", { loop }), /circular reference/);
  assert.throws(() => collector.add("X", { $gwSignal: 1 }), /reserved key name/);
  assert.deepEqual(collector.add("X", { d: new Date(0), u: undefined, a: [undefined] }), 0);
  assert.deepEqual(collector.payload().props[0], { d: "1970-01-01T00:00:00.000Z", a: [null] });
});

Deno.test("island names must be unique across files", () => {
  assert.throws(
    () => new IslandRegistry({ "islands/a.tsx": { Counter }, "islands/b.tsx": { Counter: Outer } }),
    /"Counter" is exported by both islands\/a\.tsx and islands\/b\.tsx/,
  );
  const withDefault = new IslandRegistry({ "islands/key_chart.tsx": { default: Counter } });
  assert.equal(withDefault.get(Counter)?.name, "KeyChart");
});

Deno.test("the Keys page renders the KeyStates island with the first page of rows as props", () => {
  const usageToday = { requests: 0, ok: 0, rateLimited: 0, errors: 0, inputTokens: 0, outputTokens: 0 };
  const keys: ApiKey[] = [
    { id: "k1", masked: "AIza…abcd", state: "active", cooldowns: [], addedAt: 1, usageToday },
    {
      id: "k2",
      masked: "AIza…efgh",
      state: "cooling",
      cooldowns: [{ model: "m", until: null, kind: "no_access", reason: "no access" }],
      addedAt: 2,
      usageToday,
    },
  ];
  const query = parseKeyQuery({ limit: "25" });
  const html = renderDocument({
    title: "Keys",
    body: h(KeysPage, {
      basePath: "/admin",
      page: { total: 2, keys, counts: { active: 1, cooling: 1, disabled: 0 } },
      now: 1000,
      query,
    }),
    registry: new IslandRegistry(islandModules),
    build: { buildId: "b2", clientUrl: "/c.js", islandUrls: { "islands/key_states.tsx": "/k.js" } },
  });
  assert.match(html, /<!--gw-island:KeyStates:0--><section class="panel" data-keys-island/);
  assert.match(html, /AIza…abcd/);
  assert.match(
    html,
    /<link rel="modulepreload" href="\/c\.js"><link rel="modulepreload" href="\/k\.js"><\/head>/,
  );
  assert.match(
    html,
    /"KeyStates": \$0\["KeyStates"\] \}, \{"props":\[\{"initial":\{"total":2,"keys":\[\{"id":"k1"/,
  );
  assert.match(html, /"counts":\{"active":1,"cooling":1,"disabled":0\}/);
  assert.match(html, /"query":\{"search":"","state":"","sort":"added","offset":0,"limit":25\}/);
  assert.match(html, /"eventsUrl":"\/admin\/events","apiBase":"\/admin\/api"/);
  assert.match(html, /<\/script><\/body><\/html>$/);
});

Deno.test("before the first build, island pages render without a script", () => {
  const html = renderDocument({
    title: "t",
    body: h(Counter, { count: 1, text: "x" }),
    registry,
    build: null,
  });
  assert.match(html, /<!--gw-island:Counter:0-->/);
  assert.doesNotMatch(html, /<script/);
});
