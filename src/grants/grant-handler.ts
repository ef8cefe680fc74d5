import type { Deps } from '../deps.js';
import type { FormParametersSchema } from '../http/form-parameters.js';
import type { Client } from '../store/clients-repository.js';
import type { TokenResponse } from '../tokens/issue.js';
import type { IssueContext } from '../tokens/issue.js';

/** What a grant may need to know about the request besides its parameters. */
export interface GrantRequest {
  /** The client IP (ctx.ip, honouring TRUST_PROXY). */
  ip: string;
}

/** What every grant module (password, refresh_token, client_credentials) provides. */
export interface GrantHandler {
  grantType: string;
  /** JSON Schema of the grant's own form parameters; checked before handle(). */
  parameters: FormParametersSchema;
  handle(deps: Deps, client: Client, parameters: Record<string, string>, request: GrantRequest): Promise<TokenResponse>;
}

export function issueContext(deps: Deps): IssueContext {
  return {
    issuer: deps.config.issuer,
    accessTokenTtl: deps.config.accessTokenTtl,
    refreshTokenIdleTtl: deps.config.refreshTokenIdleTtl,
    refreshTokenSecret: deps.refreshTokenSecret,
    keys: deps.keys,
    clock: deps.clock,
  };
}
