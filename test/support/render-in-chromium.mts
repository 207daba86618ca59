/**
 * Prints the DOM of a local page after its scripts ran, as headless Chromium 153 lays it out.
 * Usage: node --import tsx test/support/render-in-chromium.mts <file URL>
 *
 * The browser comes from npm (`@sparticuz/chromium`, unpacked on first use into the temporary
 * directory, which test/support/chromium.ts makes one of its own), so a machine with only Node and npm
 * renders the page; no system Chromium is looked for.
 * This is a separate ES module because both packages are ESM-only, which jest's module loader cannot
 * import; test/support/chromium.ts runs it as a child process.
 */
import chromium from '@sparticuz/chromium';
import puppeteer from 'puppeteer-core';

/** Flags for a closed network: no background connections that this machine would refuse anyway. */
const CLOSED_NETWORK_FLAGS = [
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function render(pageUrl: string): Promise<string> {
  const browser = await puppeteer.launch({
    executablePath: await chromium.executablePath(),
    args: [...chromium.args, ...CLOSED_NETWORK_FLAGS],
    headless: 'shell',
  });
  try {
    const page = await browser.newPage();
    await page.goto(pageUrl, { waitUntil: 'load' });
    return await page.content();
  } finally {
    await browser.close();
  }
}

const [pageUrl] = process.argv.slice(2);
if (!pageUrl?.startsWith('file://')) {
  console.error('Give the file:// URL of the page to render, e.g. file:///tmp/run.html');
  process.exitCode = 2;
} else {
  render(pageUrl).then(
    (dom) => process.stdout.write(dom),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
