// The chat page in a real headless Chromium against the real server and stories260K: model picker,
// streamed replies, options, thinking, stop, conversations kept across a reload, images, API keys,
// safe Markdown; and the static route itself (/ for browsers, headers, no path escape).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { GgufValueType } from "../src/gguf/types.js";
import { staticDir } from "../src/server/ui/assets.js";
import { launchBrowser, NO_BROWSER, openPage, ready } from "./support/browser.js";
import { rewriteGguf } from "./support/gguf.js";
import { createFromGguf, postJson, ROOT, startTestServer, STORIES, type TestServer } from "./support/server.js";

// Thinking tags "time" and "Lily": stories260K's greedy story then starts with its thinking.
const TIME_LILY = "{{ range .Messages }}{{ if .Thinking }}time{{ .Thinking }}Lily{{ end }}{{ .Content }}{{ end }}";
const KEY = "k-ui-0123456789";

let models: string;
let srv: TestServer;
let browser: Browser | undefined;

before(async () => {
  models = await mkdtemp(join(tmpdir(), "corral-ui-models-"));
  // One slot per model: after a stop, the next request on the endless model can only run once the
  // abandoned generation has really ended.
  srv = await startTestServer({ OLLAMA_NUM_PARALLEL: "1" }, { models });
  // An end-of-text token the model never writes: a reply that goes on until stopped.
  const endless = join(await mkdtemp(join(tmpdir(), "corral-ui-")), "endless.gguf");
  await rewriteGguf(STORIES, endless, (md) => md.set("tokenizer.ggml.eos_token_id", { type: GgufValueType.UINT32, value: 0 }));
  await createFromGguf(srv.url, "stories", STORIES, { parameters: { num_predict: 12 } });
  await createFromGguf(srv.url, "thinker", STORIES, { template: TIME_LILY, parameters: { num_predict: 24, temperature: 0 } });
  await createFromGguf(srv.url, "endless", endless, { parameters: { num_predict: 1_000_000 } });
  if (!NO_BROWSER) browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await srv.stop();
});

const assistant = (page: Page) => page.locator(".msg.assistant").last();

async function sendPrompt(page: Page, text: string) {
  await page.fill("#prompt", text);
  await page.click("#send");
}

/** A raw GET, so the path reaches the server exactly as written (fetch would normalise dot segments). */
function rawGet(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(`${srv.url}${path}`, (res) => {
      res.resume();
      resolve(res.statusCode!);
    }).on("error", reject).end();
  });
}

test("GET / stays 'Ollama is running' for API clients and is the chat page for browsers; /ui too", async () => {
  const plain = await fetch(srv.url);
  assert.equal(await plain.text(), "Ollama is running");
  assert.match(plain.headers.get("content-type")!, /^text\/plain/);
  assert.equal(plain.headers.get("vary"), "Accept");
  const asBrowser = await fetch(srv.url, { headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
  const html = await asBrowser.text();
  assert.match(html, /<title>corral chat<\/title>/);
  assert.equal(asBrowser.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(asBrowser.headers.get("content-security-policy")!, /default-src 'self'/);
  for (const path of ["/ui", "/ui/"]) assert.equal(await (await fetch(`${srv.url}${path}`)).text(), html);
});

test("static assets: types, revalidation by ETag, nothing outside the page's own files", async () => {
  const js = await fetch(`${srv.url}/ui/app.js`);
  assert.equal(js.status, 200);
  assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(js.headers.get("cache-control"), "no-cache");
  assert.equal(js.headers.get("x-content-type-options"), "nosniff");
  const etag = js.headers.get("etag")!;
  assert.match(etag, /^".+"$/);
  const again = await fetch(`${srv.url}/ui/app.js`, { headers: { "if-none-match": etag } });
  assert.equal(again.status, 304);
  assert.equal((await fetch(`${srv.url}/ui/style.css`)).headers.get("content-type"), "text/css; charset=utf-8");
  for (const path of ["/ui/..%2fassets.ts", "/ui/%2e%2e%2f%2e%2e%2fpackage.json", "/ui/../../package.json", "/ui/missing.js", "/ui/.hidden.js"]) {
    assert.equal(await rawGet(path), 404, path);
  }
  // Served from src/ even by the compiled server in dist/: tsc copies no static files.
  assert.equal(staticDir(), join(ROOT, "src/server/ui/static"));
});

test("the Markdown renderer escapes model text before adding markup", async () => {
  const { renderMarkdown } = await import(pathToFileURL(join(staticDir(), "markdown.js")).href);
  assert.equal(renderMarkdown("<img src=x onerror=alert(1)>"), "<p>&lt;img src=x onerror=alert(1)&gt;</p>");
  assert.equal(renderMarkdown("**a** `<b>` [x](javascript:alert(1))"), "<p><strong>a</strong> <code>&lt;b&gt;</code> [x](javascript:alert(1))</p>");
  assert.equal(renderMarkdown('```js\nlet a = "<b>";\n```'), '<pre><code class="language-js">let a = &quot;&lt;b&gt;&quot;;</code></pre>');
  // A fence still streaming (not yet closed) is already code.
  assert.equal(renderMarkdown("```\n<x>"), "<pre><code>&lt;x&gt;</code></pre>");
  assert.equal(
    renderMarkdown('[a](https://e.com/?q="x"&y)'),
    '<p><a href="https://e.com/?q=&quot;x&quot;&amp;y" target="_blank" rel="noopener noreferrer">a</a></p>',
  );
});

test("pick a model, chat with options, and see the streamed reply with its speed", { skip: NO_BROWSER }, async () => {
  const { context, page, errors } = await openPage(browser!, `${srv.url}/ui`);
  try {
    await page.selectOption("#model", "stories:latest");
    await page.click("#settings summary");
    await page.fill("#temperature", "0");
    await page.fill("#seed", "42");
    await page.fill("#num-ctx", "256");
    await page.fill("#system", "Tell stories.");
    const sent = page.waitForRequest((r) => r.url().endsWith("/api/chat"));
    await sendPrompt(page, "Once upon a time");
    const body = (await sent).postDataJSON();
    assert.deepEqual(body, {
      model: "stories:latest",
      messages: [{ role: "system", content: "Tell stories." }, { role: "user", content: "Once upon a time" }],
      options: { temperature: 0, seed: 42, num_ctx: 256 },
      stream: true,
    });
    await assistant(page).locator(".stats").waitFor();
    assert.match(await assistant(page).locator(".stats").innerText(), /^12 tokens · \d+(\.\d)? tokens\/s$/);
    // The same request without streaming gives the same (greedy) text.
    const direct = await postJson(srv.url, "/api/chat", { ...body, stream: false });
    assert.equal(await assistant(page).locator(".content").innerText(), direct.json.message.content.trim());
    assert.equal(await page.locator("#conversations li.active button.open").innerText(), "Once upon a time");
    // The next turn carries the conversation so far; Enter sends.
    const second = page.waitForRequest((r) => r.url().endsWith("/api/chat"));
    await page.fill("#prompt", "The end");
    await page.press("#prompt", "Enter");
    assert.deepEqual((await second).postDataJSON().messages, [...body.messages, direct.json.message, { role: "user", content: "The end" }].map(({ role, content }) => ({ role, content })));
    await page.locator(".msg.assistant .stats").nth(1).waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("thinking is shown apart from the reply", { skip: NO_BROWSER }, async () => {
  const { context, page, errors } = await openPage(browser!, `${srv.url}/`);
  try {
    await page.selectOption("#model", "thinker:latest");
    await page.click("#settings summary");
    await page.selectOption("#think", "true");
    const sent = page.waitForRequest((r) => r.url().endsWith("/api/chat"));
    await sendPrompt(page, "Once upon a time");
    assert.equal((await sent).postDataJSON().think, true);
    await assistant(page).locator(".stats").waitFor();
    assert.equal(await assistant(page).locator(".thinking-text").textContent(), ", there was a little girl named ");
    assert.match(await assistant(page).locator(".content").innerText(), /^\. She loved to play/);
    // Off: the same words, all in the reply. A new chat starts from default settings.
    await page.click("#new-chat");
    assert.equal(await page.inputValue("#think"), "");
    await page.selectOption("#think", "false");
    await sendPrompt(page, "Once upon a time");
    await assistant(page).locator(".stats").waitFor();
    assert.equal(await assistant(page).locator(".thinking").count(), 0);
    assert.match(await assistant(page).locator(".content").innerText(), /^, there was a little girl named Lily\. She/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("errors: bad settings are refused on the page, the server's refusal shows on the reply", { skip: NO_BROWSER }, async () => {
  const { context, page, errors } = await openPage(browser!, `${srv.url}/ui`);
  try {
    await page.selectOption("#model", "stories:latest");
    await page.click("#settings summary");
    await page.fill("#tools", "[{not json");
    let chats = 0;
    page.on("request", (r) => void (r.url().endsWith("/api/chat") && chats++));
    await sendPrompt(page, "Once upon a time");
    await page.locator("#status", { hasText: "Tools is not valid JSON" }).waitFor();
    assert.equal(await page.locator(".msg").count(), 0);
    assert.equal(await page.inputValue("#prompt"), "Once upon a time", "the message is kept to send again");
    assert.equal(chats, 0);
    // stories260K's template has no tools: the server's own message, on the reply.
    const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: {} } } }];
    await page.fill("#tools", JSON.stringify(tools));
    const sent = page.waitForRequest((r) => r.url().endsWith("/api/chat"));
    await page.click("#send");
    assert.deepEqual((await sent).postDataJSON().tools, tools);
    await assistant(page).locator(".error").waitFor();
    assert.match(await assistant(page).locator(".error").innerText(), /stories:latest does not support tools$/);
    // Nor can it think.
    await page.fill("#tools", "");
    await page.selectOption("#think", "high");
    await page.fill("#prompt", "Once upon a time");
    await page.click("#send");
    await page.locator(".msg.assistant .error").nth(1).waitFor();
    assert.equal(await assistant(page).locator(".error").innerText(), '"stories:latest" does not support thinking');
    assert.equal(await page.locator("#send").isVisible(), true);
    assert.ok(errors.every((e) => /400/.test(e)), errors.join("\n"));
  } finally {
    await context.close();
  }
});

test("stop ends a streaming reply on the server too, and a reload finds the conversation", { skip: NO_BROWSER }, async () => {
  const { context, page, errors } = await openPage(browser!, `${srv.url}/ui`);
  try {
    await page.selectOption("#model", "endless:latest");
    await sendPrompt(page, "Once upon a time");
    // Text arrives while the reply is still going (the stop button is up).
    await page.waitForFunction(() => {
      const doc = (globalThis as any).document;
      const content = [...doc.querySelectorAll(".msg.assistant .content")].pop();
      return !doc.getElementById("stop").hidden && (content?.textContent ?? "").length > 40;
    });
    await page.click("#stop");
    await assistant(page).locator(".stopped").waitFor();
    assert.equal(await page.locator("#send").isVisible(), true);
    const partial = await assistant(page).locator(".content").innerText();
    assert.ok(partial.length > 40, partial);
    // One slot: this answer comes only if the stopped generation let go of it.
    const next = await postJson(srv.url, "/api/generate", { model: "endless", prompt: "Once", stream: false, options: { num_predict: 2 } });
    assert.equal(next.json.eval_count, 2);

    await page.click("#new-chat");
    await page.reload();
    await ready(page);
    assert.equal(await page.locator(".msg").count(), 0, "the new chat is the current one");
    await page.locator("#conversations li", { hasText: "Once upon a time" }).locator("button.open").click();
    await assistant(page).locator(".stopped").waitFor();
    assert.equal(await assistant(page).locator(".content").innerText(), partial);
    assert.equal(await page.locator(".msg.user .content").innerText(), "Once upon a time");
    assert.equal(await page.inputValue("#model"), "endless:latest");
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("a reload in the middle of a reply keeps what had arrived, marked stopped", { skip: NO_BROWSER }, async () => {
  const { context, page, errors } = await openPage(browser!, `${srv.url}/ui`);
  try {
    await page.selectOption("#model", "endless:latest");
    await sendPrompt(page, "Once upon a time");
    // Wait until part of the reply has been saved while it streams.
    await page.waitForFunction(() => {
      const saved = JSON.parse((globalThis as any).localStorage.getItem("corral.conversations") ?? "[]");
      const reply = saved[0]?.messages?.[1];
      return reply?.partial === true && reply.content.length > 0;
    });
    await page.reload();
    await ready(page);
    await assistant(page).locator(".stopped").waitFor();
    assert.ok((await assistant(page).locator(".content").innerText()).length > 0);
    assert.equal(await page.locator("#stop").isVisible(), false);
    // The page going away ended the generation: the one slot is free again.
    const next = await postJson(srv.url, "/api/generate", { model: "endless", prompt: "Once", stream: false, options: { num_predict: 2 } });
    assert.equal(next.json.eval_count, 2);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("an attached image goes into the message's images as base64", { skip: NO_BROWSER }, async () => {
  const { context, page } = await openPage(browser!, `${srv.url}/ui`);
  try {
    // A 1x1 PNG.
    const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");
    await page.selectOption("#model", "stories:latest");
    await page.setInputFiles("#image", { name: "dot.png", mimeType: "image/png", buffer: png });
    await page.locator("#attachments img").waitFor();
    const sent = page.waitForRequest((r) => r.url().endsWith("/api/chat"));
    await sendPrompt(page, "What is this?");
    const last = (await sent).postDataJSON().messages.at(-1);
    assert.deepEqual(last, { role: "user", content: "What is this?", images: [png.toString("base64")] });
    await page.locator(".msg.user .images img").waitFor();
    assert.equal(await page.locator("#attachments img").count(), 0);
    // The reply ends one way or the other (stories260K has no vision): the page is ready again.
    await page.locator("#send").waitFor();
  } finally {
    await context.close();
  }
});

test("model text renders as safe Markdown, with tool calls and a copy button", { skip: NO_BROWSER }, async () => {
  const { context, page, errors } = await openPage(browser!, `${srv.url}/ui`);
  try {
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: srv.url });
    const content = '**bold** <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>\n\n```js\nlet a = "<b>";\n```';
    const conversation = {
      id: "c1", title: "Seeded", model: "stories:latest", system: "", options: {}, think: false, updated: Date.now(),
      messages: [
        { role: "user", content: "<i>hi</i>" },
        { role: "assistant", content, thinking: "<b>hmm</b>", tool_calls: [{ function: { name: "get_weather", arguments: { city: "Paris" } } }] },
      ],
    };
    await page.evaluate((c) => {
      const localStorage = (globalThis as any).localStorage;
      localStorage.setItem("corral.conversations", JSON.stringify([c]));
      localStorage.setItem("corral.current", JSON.stringify(c.id));
    }, conversation);
    await page.reload();
    await ready(page);
    const reply = assistant(page);
    assert.equal(await reply.locator("strong").innerText(), "bold");
    assert.equal(await reply.locator("img, script").count(), 0);
    assert.equal(await page.locator(".msg.user i").count(), 0);
    assert.equal(await page.locator(".msg.user .content").innerText(), "<i>hi</i>");
    assert.equal(await reply.locator("pre code.language-js").innerText(), 'let a = "<b>";');
    assert.equal(await reply.locator(".thinking-text").textContent(), "<b>hmm</b>");
    assert.equal(await reply.locator(".tool-name").innerText(), "get_weather()");
    assert.deepEqual(JSON.parse(await reply.locator(".tool-args").innerText()), { city: "Paris" });
    assert.equal(await page.evaluate(() => (globalThis as any).__xss), undefined);
    await reply.locator(".meta button.copy").click();
    await reply.locator(".meta button.copy", { hasText: "Copied" }).waitFor();
    assert.equal(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText()), content);
    // Deleting the only conversation leaves a fresh one, also after a reload.
    await page.locator("#conversations li", { hasText: "Seeded" }).locator("button.delete").click();
    await page.reload();
    await ready(page);
    assert.deepEqual(await page.locator("#conversations li button.open").allInnerTexts(), ["New chat"]);
    assert.equal(await page.locator(".msg").count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("with API keys the page loads without one, asks for it, and chats with it", { skip: NO_BROWSER }, async () => {
  const keyed = await startTestServer({ CORRAL_API_KEYS: KEY }, { models });
  const { context, page, errors } = await openPage(browser!, `${keyed.url}/ui`);
  try {
    await page.locator("#status", { hasText: "requires an API key" }).waitFor();
    assert.equal(await page.locator("#model option").count(), 0);
    await page.fill("#api-key", "wrong");
    await page.press("#api-key", "Tab");
    await page.locator("#status", { hasText: "refused this API key" }).waitFor();
    await page.fill("#api-key", KEY);
    await page.press("#api-key", "Tab");
    await page.locator("#model option[value='stories:latest']").waitFor({ state: "attached" });
    await page.selectOption("#model", "stories:latest");
    const sent = page.waitForRequest((r) => r.url().endsWith("/api/chat"));
    await sendPrompt(page, "Once upon a time");
    assert.equal((await sent).headers()["authorization"], `Bearer ${KEY}`);
    await assistant(page).locator(".stats").waitFor();
    assert.equal(await assistant(page).locator(".error").count(), 0);
    // The key is remembered by this browser.
    await page.reload();
    await ready(page);
    assert.equal(await page.inputValue("#api-key"), KEY);
    assert.equal(await page.locator("#status").isVisible(), false);
    // The only errors: the first model list, refused without a key.
    assert.ok(errors.every((e) => /401/.test(e)), errors.join("\n"));
  } finally {
    await context.close();
    await keyed.stop();
  }
});
