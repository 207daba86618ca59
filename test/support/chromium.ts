/**
 * Opens a local page in headless Chromium and returns the DOM after its scripts ran.
 * The browser is the npm package `@sparticuz/chromium`, driven by `puppeteer-core` (both
 * devDependencies), so `npm ci && npm test` renders the page on a machine with only Node and npm.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** ESM-only packages: rendered in a child Node process that tsx loads (see the script's header). */
const RENDERER = join(__dirname, 'render-in-chromium.mts');

/**
 * `@sparticuz/chromium` unpacks its browser into the temporary directory and reuses whatever
 * `chromium` it finds there. A directory of our own per package version keeps it from launching a
 * binary another project or another version left in /tmp.
 */
function unpackDirectory(): string {
  const packageJson = join(dirname(require.resolve('@sparticuz/chromium')), '..', 'package.json');
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  const directory = join(tmpdir(), `afu9-sparticuz-chromium-${version}`);
  mkdirSync(directory, { recursive: true });
  return directory;
}

export function renderedDom(htmlFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', RENDERER, pathToFileURL(htmlFile).href],
      {
        timeout: 60_000,
        maxBuffer: 32 * 1024 * 1024,
        env: { ...process.env, TMPDIR: unpackDirectory() },
      },
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
