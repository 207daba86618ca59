/**
 * The environment facts every part of the orchestrator reads (deploy.config.json).
 */
import { environments } from '../support/afu9-config';

describe('environments', () => {
  it('gives each environment its own task family, so revisions of one never interleave with another', () => {
    // Prepare
    const families = Object.values(environments).map((environment) => environment.taskFamily);

    // Assess
    expect(new Set(families).size).toBe(families.length);
    expect(environments.production.taskFamily).toBe('afu9-control-center');
    expect(environments.staging.taskFamily).toBe('afu9-control-center-staging');
  });
});
