import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { createSimulatedAccount } from '../../../sandbox/account';
import type { SimulatedAccount } from '../../../sandbox/account/simulated-account';
import { afu9TimingModel, secondsUntilHealthy } from '../../../sandbox/timing-model';

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('live service', () => {
  let account: SimulatedAccount;
  afterEach(async () => account.close());

  it('answers health, readiness and the root page as the revision the service serves', async () => {
    account = await createSimulatedAccount();

    const health = await getJson(`${account.liveServiceUrl}/api/health`);
    const ready = await getJson(`${account.liveServiceUrlFor('staging')}/api/ready`);
    const root = await fetch(`${account.liveServiceUrl}/`);
    const production = await getJson(`${account.liveServiceUrlFor('production')}/api/health`);

    expect(health).toEqual({
      status: 200,
      body: {
        status: 'ok',
        service: 'afu9-control-center',
        version: 'stage-1a2b3c4',
        timestamp: account.clock.now().toISOString(),
      },
    });
    expect(ready).toMatchObject({
      status: 200,
      body: { ready: true, service: 'afu9-control-center', version: 'stage-1a2b3c4' },
    });
    expect(root.status).toBe(200);
    expect(await root.text()).toContain('<h1>afu9-control-center</h1><p>Version stage-1a2b3c4</p>');
    expect(production.body.version).toBe('prod-0f1e2d3');
  });

  it('switches to the new version once its tasks are healthy, and a not-ready revision answers 503 on readiness', async () => {
    account = await createSimulatedAccount({ behaviours: { 'stage-notready': { kind: 'not-ready' } } });
    account.ecr.pushImage('afu9/control-center', 'stage-notready');
    account.ecs.deployImage({ environment: 'staging', imageTag: 'stage-notready' });

    account.clock.advanceBy(
      (afu9TimingModel.schedulerLaunchSeconds + secondsUntilHealthy(afu9TimingModel)) * 1000,
    );
    const health = await getJson(`${account.liveServiceUrl}/api/health`);
    const ready = await getJson(`${account.liveServiceUrl}/api/ready`);

    expect(health.body.version).toBe('stage-notready');
    expect(ready).toMatchObject({ status: 503, body: { ready: false, version: 'stage-notready' } });
  });

  it('answers 503 like the load balancer when no task is registered and healthy', async () => {
    account = await createSimulatedAccount();
    await account.clients.ecs.send(
      new UpdateServiceCommand({
        cluster: 'afu9-cluster',
        service: 'afu9-control-center-staging',
        desiredCount: 0,
      }),
    );

    account.clock.advanceBy(afu9TimingModel.schedulerLaunchSeconds * 1000);
    const response = await fetch(`${account.liveServiceUrl}/api/health`);

    expect(response.status).toBe(503);
    expect(await response.text()).toContain('503 Service Temporarily Unavailable');
    expect(account.ecs.servingRevision('staging')).toBeUndefined();
  });
});
