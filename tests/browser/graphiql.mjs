// Signs in through GraphiQL in headless Chromium, then runs `me` and an introspection query,
// exactly as an organisation admin would. Usage: node graphiql.mjs BASE_URL EMAIL PASSWORD SHOT.png
import { chromium } from 'playwright-core';

const [base, organisation, email, password, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage();
const problems = [];
page.on('pageerror', (error) => problems.push(String(error)));
page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`));
page.on('request', (request) => {
  if (!request.url().startsWith(base)) problems.push(`left the origin: ${request.url()}`);
});

async function run(document, expect) {
  await page.evaluate((text) => {
    document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(text);
  }, document);
  // GraphiQL picks the operation name up from the editor a moment after a change.
  await page.waitForTimeout(500);
  await page.click('.graphiql-execute-button');
  try {
    await page.waitForFunction(
      (needle) => document.querySelector('.result-window')?.innerText.includes(needle),
      expect, { timeout: 15000 });
  } catch (error) {
    await page.screenshot({ path: screenshot });
    const shown = await page.locator('.result-window').innerText().catch(() => '(no result)');
    console.error(`no ${expect} in the result after 15 s; GraphiQL shows:\n${shown}`);
    console.error(problems.join('\n'));
    process.exit(1);
  }
  return page.locator('.result-window').innerText();
}

await page.goto(`${base}/graphiql`);
await page.waitForSelector('.graphiql-container', { timeout: 20000 });
const login = await run(
  `mutation { login(input: {organisation: ${JSON.stringify(organisation)}, email: ${JSON.stringify(email)}, password: ${JSON.stringify(password)}}) { user { email } } }`,
  email);
const me = await run('{ me { email organisation { name } } __schema { queryType { name } } }', '"Query"');
await page.screenshot({ path: screenshot });
await browser.close();

const ok = login.includes(email) && me.includes(email) && problems.length === 0;
console.log(`login result:\n${login}\n\nme result:\n${me}\n\nproblems: ${problems.length ? problems.join(", ") : "none"}\n${ok ? "GraphiQL check passed" : "GraphiQL check FAILED"}`);
process.exit(ok ? 0 : 1);
