// Signs in through GraphiQL in headless Chromium, then runs `me` and an introspection query,
// exactly as an organisation admin would. Usage:
//   SPKI=… node graphiql.mjs HTTPS_BASE PLAIN_BASE ORGANISATION EMAIL PASSWORD SHOT.png
// HTTPS_BASE is https://wms.example:PORT (mapped to 127.0.0.1); PLAIN_BASE the redirect listener,
// where the browser starts. SPKI is the base64 SHA-256 of the certificate's key, the one
// certificate Chromium is told to accept.
import { chromium } from 'playwright-core';

const [base, plain, organisation, email, password, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--host-resolver-rules=MAP wms.example 127.0.0.1',
    `--ignore-certificate-errors-spki-list=${process.env.SPKI}`],
});
const page = await browser.newPage();
const problems = [];
page.on('pageerror', (error) => problems.push(String(error)));
page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`));
page.on('request', (request) => {
  const url = request.url();
  if (!url.startsWith(base) && url !== `${plain}/graphiql`) problems.push(`left the origin: ${url}`);
});
// A Content-Security-Policy refusal shows only as a console error.
page.on('console', (message) => {
  if (message.type() === 'error') problems.push(`console: ${message.text()}`);
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

// Typed as a bare address: the redirect listener sends the browser to HTTPS.
const landing = await page.goto(`${plain}/graphiql`);
if (page.url() !== `${base}/graphiql`) problems.push(`not redirected to HTTPS: ${page.url()}`);
const hsts = landing.headers()['strict-transport-security'];
if (hsts !== 'max-age=63072000; includeSubDomains') problems.push(`HSTS: ${hsts}`);
await page.waitForSelector('.graphiql-container', { timeout: 20000 });
const login = await run(
  `mutation { login(input: {organisation: ${JSON.stringify(organisation)}, email: ${JSON.stringify(email)}, password: ${JSON.stringify(password)}}) { user { email } } }`,
  email);
const me = await run('{ me { email organisation { name } } __schema { queryType { name } } }', '"Query"');
await page.screenshot({ path: screenshot });
await browser.close();

const ok = login.includes(email) && me.includes(email) && problems.length === 0;
console.log(`landed on ${page.url()} (HSTS: ${hsts})\n\nlogin result:\n${login}\n\nme result:\n${me}\n\nproblems: ${problems.length ? problems.join(", ") : "none"}\n${ok ? "GraphiQL check passed" : "GraphiQL check FAILED"}`);
process.exit(ok ? 0 : 1);
