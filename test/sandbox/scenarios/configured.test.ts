/**
 * The scenarios are written once and played in any configuration (sandbox/scenarios/configured.ts):
 * for AFU-9's they are exactly as written; for another they take its environments, tag prefixes,
 * secret, repository and readiness path; a scenario a configuration cannot play says why.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDeployConfig } from '../../../lambdas/domain/deploy-config';
import { findScenario, scenarios } from '../../../sandbox/scenarios';
import { rehearsalEnvironment, scenarioForConfig } from '../../../sandbox/scenarios/configured';
import { environments as afu9 } from '../../support/afu9-config';

const shopFile = join(__dirname, '..', '..', 'fixtures', 'config', 'shop.deploy.config.json');
const shopRaw = () => JSON.parse(readFileSync(shopFile, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- edited fixture
const shop = parseDeployConfig(shopRaw(), shopFile).environments;
const scenario = (name: string) => findScenario(name)!;

describe('scenarios in a configuration', () => {
  it("are as written in AFU-9's configuration, with AFU-9's names for the stand-ins", () => {
    // These name the sidecar or the infrastructure stacks by their stand-ins, which become AFU-9's names.
    const namingStandIns = [
      'sidecar-deploy',
      'sidecar-release',
      'late-push',
      'infra-release',
      'infra-stack-fails',
      'infra-approval',
      'infra-denied',
    ];
    for (const written of scenarios.filter((candidate) => !namingStandIns.includes(candidate.name))) {
      // Act
      const played = scenarioForConfig(written, afu9);

      // Assess
      expect(played.trigger.kind === 'start' ? played.trigger.input : played.trigger.tag).toEqual(
        written.trigger.kind === 'start' ? written.trigger.input : written.trigger.tag,
      );
      expect(played.followUps).toEqual(written.followUps);
      expect(played.expected).toEqual(written.expected);
    }
    expect(scenarioForConfig(scenario('secret-missing'), afu9).world.secrets).toEqual({
      'afu9/database': { state: 'pending-deletion' },
    });
    expect(scenarioForConfig(scenario('duplicate-push'), afu9).trigger).toMatchObject({
      repository: 'afu9/control-center',
    });
    expect(scenarioForConfig(scenario('smoke-fail'), afu9).summary).toContain('/api/ready answers 503');
    // The infrastructure scenarios name the ECS stack and the two below it by stand-ins.
    expect(scenarioForConfig(scenario('infra-release'), afu9).trigger).toMatchObject({
      input: { stacks: ['Afu9NetworkStack', 'Afu9DatabaseStack', 'Afu9EcsStack'] },
    });
    expect(
      Object.keys(scenarioForConfig(scenario('infra-stack-fails'), afu9).world.stackDeploys ?? {}),
    ).toEqual(['Afu9DatabaseStack']);
    expect(scenarioForConfig(scenario('sidecar-deploy'), afu9).trigger).toEqual({
      kind: 'start',
      input: { environment: 'staging', images: { 'mcp-github': 'stage-9d1e0f4' }, requestedBy: 'jane.doe' },
    });
  });

  it('GIVEN a configuration without infrastructure stacks THEN infra-release says it cannot be played', () => {
    expect(() => scenarioForConfig(scenario('infra-release'), shop)).toThrow(
      /Scenario infra-release releases three infrastructure stacks of staging.*Pick another scenario\./,
    );
  });

  it('GIVEN a configuration without sidecars THEN sidecar-deploy says it cannot be played', () => {
    expect(() => scenarioForConfig(scenario('sidecar-deploy'), shop)).toThrow(
      "Scenario sidecar-deploy deploys a sidecar's image alone; staging configures only its primary container.",
    );
  });

  it("take the shop's environments, tag prefixes, secret, repository and readiness path", () => {
    // Act
    const happy = scenarioForConfig(scenario('happy'), shop);
    const guard = scenarioForConfig(scenario('prod-guard'), shop);
    const secret = scenarioForConfig(scenario('secret-missing'), shop);
    const push = scenarioForConfig(scenario('duplicate-push'), shop);
    const smoke = scenarioForConfig(scenario('smoke-fail'), shop);

    // Assess
    expect(happy.trigger).toEqual({
      kind: 'start',
      input: { environment: 'staging', imageTag: 'rc-9d1e0f4', requestedBy: 'jane.doe' },
    });
    expect(guard.trigger).toMatchObject({ input: { environment: 'live', imageTag: 'rc-9d1e0f4' } });
    expect(secret.world.secrets).toEqual({ 'shop/db': { state: 'pending-deletion' } });
    expect(secret.summary).toContain('the secret shop/db is scheduled for deletion');
    expect(push.trigger).toEqual({ kind: 'push', repository: 'shop/api', tag: 'rc-9d1e0f4' });
    expect(smoke.summary).toContain('/readyz answers 503');
  });

  it('deploy to the first environment that needs no allow flag', () => {
    expect(rehearsalEnvironment(afu9).name).toBe('staging');
    expect(rehearsalEnvironment(shop).name).toBe('staging');
  });

  it('GIVEN no environment requiring the allow flag THEN prod-guard says it cannot be played', () => {
    // Prepare
    const file = shopRaw();
    delete file.environments.live;
    const single = parseDeployConfig(file, shopFile).environments;

    // Act / Assess
    expect(() => scenarioForConfig(scenario('prod-guard'), single)).toThrow(
      'Scenario prod-guard sends a request to an environment that requires the allow flag; the configuration has none',
    );
  });

  it('GIVEN no readiness check THEN smoke-fail says nothing would notice', () => {
    // Prepare
    const file = shopRaw();
    for (const environment of Object.values(file.environments) as {
      smoke: { checks: { expectBody?: string }[] };
    }[]) {
      environment.smoke.checks = environment.smoke.checks.filter((check) => check.expectBody !== 'ready');
    }
    const unready = parseDeployConfig(file, shopFile).environments;

    // Act / Assess
    expect(() => scenarioForConfig(scenario('smoke-fail'), unready)).toThrow(
      'the smoke checks of staging ask no readiness path (no check with "expectBody": "ready"), so nothing ' +
        'would notice. Add one to environments.staging.smoke.checks (`afu9-deploy init --ready-path <path>` writes it)',
    );
  });
});
