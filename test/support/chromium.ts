/**
 * Opens a local page in Debian's headless Chromium and returns the DOM after its scripts ran.
 * `.ci/run` installs the `chromium` package when it is missing.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function chromiumPath(): string {
  const found = CANDIDATES.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      `No Chromium found at ${CANDIDATES.join(', ')}. Install Debian's package: ` +
        '`apt-get install -y chromium` (`.ci/ensure-chromium` does this in CI).',
    );
  }
  return found;
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      chromiumPath(),
      args,
      { timeout: 60_000, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`chromium failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** Flags for a closed network: no background connections that this machine would refuse anyway. */
function baseFlags(profile: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
  ];
}

export async function renderedDom(htmlFile: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'afu9-chromium-'));
  try {
    return await run([...baseFlags(profile), '--dump-dom', pathToFileURL(htmlFile).href]);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

export async function screenshot(htmlFile: string, pngFile: string, size = '1400,2200'): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), 'afu9-chromium-'));
  try {
    await run([
      ...baseFlags(profile),
      `--screenshot=${pngFile}`,
      `--window-size=${size}`,
      pathToFileURL(htmlFile).href,
    ]);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
