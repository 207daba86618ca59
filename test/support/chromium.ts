/**
 * Opens a local page in headless Chromium and returns the DOM after its scripts ran.
 * The browser is the npm package `@sparticuz/chromium`, driven by `puppeteer-core` (both
 * devDependencies), so `npm ci && npm test` renders the page on a machine with only Node and npm.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** ESM-only packages: rendered in a child Node process that tsx loads (see the script's header). */
const RENDERER = join(__dirname, 'render-in-chromium.mts');

export function renderedDom(htmlFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', RENDERER, pathToFileURL(htmlFile).href],
      { timeout: 60_000, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(
              `Headless Chromium could not render ${htmlFile}: ${error.message}\n${stderr}\n` +
                'The browser comes from the devDependency @sparticuz/chromium: run `npm ci` to install it.',
            ),
          );
        } else resolve(stdout);
      },
    );
  });
}
