/**
 * AFU-9's environments as the repository's deploy.config.json holds them: the fixture most tests
 * judge the orchestrator against (they may name AFU-9's services; the sources may not).
 */
import { repositoryDeployConfig } from '../../infra/deploy-config-file';

export const afu9Config = repositoryDeployConfig();
export const environments = afu9Config.environments;
