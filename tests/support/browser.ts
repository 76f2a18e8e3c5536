/**
 * Browser test harness: Debian Chromium driven by playwright-core, a loopback server for a Hono app,
 * and screenshots saved to `tests/screenshots/`.
 *
 * @module
 */
import { type Browser, chromium, type Page } from "./sdk/playwright.ts";

/** Chromium binary; override with `CHROMIUM_PATH`. */
export const CHROMIUM_PATH: string = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

const SCREENSHOT_DIR = new URL("../screenshots/", import.meta.url);

/** Launches headless Chromium with flags suited to a sandboxed CI box. */
export async function launchBrowser(): Promise<Browser> {
  try {
    await Deno.stat(CHROMIUM_PATH);
  } catch {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: run \`apt-get install -y chromium\` or set CHROMIUM_PATH.`,
    );
  }
  return await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** A running loopback server. */
export interface TestServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Stops the server. */
  close(): Promise<void>;
}

/** Serves `fetch` on 127.0.0.1 on a free port. */
export function serve(
  fetch: (req: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>,
): TestServer {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, fetch);
  const addr = server.addr;
  return {
    url: `http://${addr.hostname}:${addr.port}`,
    close: () => server.shutdown(),
  };
}

/**
 * Saves a screenshot as `tests/screenshots/<name>.png` and returns its path: the full page by
 * default, or only the viewport (`fullPage: false`, for long pages with sticky parts).
 */
export async function screenshot(
  page: Page,
  name: string,
  opts: { fullPage?: boolean } = {},
): Promise<string> {
  await Deno.mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = new URL(`${name}.png`, SCREENSHOT_DIR).pathname;
  await page.screenshot({ path, fullPage: opts.fullPage ?? true });
  return path;
}

/** Signs in on the admin login page of the gateway at `url` with `token` and waits for the islands. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/admin/login`);
  await page.fill("#token", token);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.endsWith("/login")),
    page.click("button[type=submit]"),
  ]);
  await page.waitForSelector("body[data-islands-hydrated]");
}

/** Collects console errors and uncaught page errors, for asserting a clean page. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  page.on("pageerror", (err) => errors.push(String(err)));
  return errors;
}
