/**
 * A configuration `afu9-deploy init` writes is one the rehearsal plays: its default tag prefix
 * (`<env>-`) gives execution names that say the environment once, its notifications open with the
 * application's name from the configuration, and with `--ready-path` the smoke-fail scenario finds
 * the revision that is not ready and rolls it back.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { CliIo } from '../../../cli/command';
import { main } from '../../../cli/main';
import { currentAssembly } from '../../../sandbox/assembly/current-assembly';
import type { SimulationDocument } from '../../../sandbox/runner';

function cliIo() {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    env: {},
    stdin: Readable.from([]),
  };
  return { io, stdout: () => out, stderr: () => err };
}

describe('a configuration init wrote, rehearsed', () => {
  const configPath = join(mkdtempSync(join(tmpdir(), 'afu9-init-rehearsal-')), 'deploy.config.json');

  beforeAll(async () => {
    // Prepare: the service given by flags, with a health and a readiness document
    const code = await main(
      [
        'init',
        ...['--cluster', 'shop-cluster', '--service', 'shop-api-staging', '--container', 'api'],
        ...['--repository', 'shop/api', '--port', '8080', '--secret', 'shop/db:host,password'],
        ...['--stack', 'ShopStack', '--base-url', 'https://staging.shop.example', '--region', 'eu-west-1'],
        ...['--health-path', '/healthz', '--ready-path', '/ready', '--output', configPath],
      ],
      cliIo().io,
    );
    expect(code).toBe(0);
    // cdk synth -c config=<the written file>, reused while nothing changes
    await currentAssembly(undefined, configPath);
  }, 240_000);

  it("deploys with an execution name that says the environment once, notified under the repository's name", async () => {
    // Act
    const cli = cliIo();
    const code = await main(['simulate', '--config', configPath, '--json'], cli.io);

    // Assess
    const document = JSON.parse(cli.stdout()) as SimulationDocument;
    expect(code).toBe(0);
    expect(document).toMatchObject({ status: 'SUCCEEDED', outcome: 'deployed', accessDenied: [] });
    expect(document.executions.map((execution) => execution.name)).toEqual([
      expect.stringMatching(/^staging-[0-9a-f]+$/),
    ]);
    // No displayName given: the primary container's repository names the application.
    expect(document.notifications.map((notification) => notification.subject)).toEqual([
      expect.stringMatching(/^\[shop\/api staging\] Deployed staging-/),
    ]);
  });

  it('plays smoke-fail: the readiness check finds the revision not ready, and it is rolled back', async () => {
    // Act
    const cli = cliIo();
    const code = await main(
      ['simulate', '--scenario', 'smoke-fail', '--config', configPath, '--json'],
      cli.io,
    );

    // Assess
    const document = JSON.parse(cli.stdout()) as SimulationDocument;
    expect(code).toBe(1);
    expect(document).toMatchObject({
      status: 'FAILED',
      outcome: 'rolled-back',
      rolledBack: true,
      accessDenied: [],
    });
    expect(JSON.stringify(document.notifications)).toContain('/ready');
  });
});
