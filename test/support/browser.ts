// A real headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, for the chat page.
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

export const CHROMIUM = CANDIDATES.find((p) => existsSync(p));

/** A skip reason when no browser is installed (node:test prints it), else false. */
export const NO_BROWSER: string | false = CHROMIUM ? false : `no Chromium at ${CANDIDATES.join(" or ")} (apt-get install chromium): browser tests skipped`;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM!, headless: true });
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions and console errors (a blocked script or style shows up here). */
  errors: string[];
}

/** A fresh browser profile (its own localStorage) with the page loaded and its model list fetched. */
export async function openPage(browser: Browser, url: string): Promise<OpenedPage> {
  const context = await browser.newContext();
  // Generous: a loaded machine may take a while to start a model's runner.
  context.setDefaultTimeout(90_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  await ready(page);
  return { context, page, errors };
}

/** Waits until the page has started and asked the server for its models. */
export async function ready(page: Page): Promise<void> {
  await page.waitForSelector("body[data-ready='1']", { state: "attached" });
}
