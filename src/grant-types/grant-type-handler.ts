import type { Deps } from '../deps.js';
import type { TokenRequestProof } from '../dpop/token-endpoint-proofs.js';
import type { FormParameters, FormParametersSchema } from '../lib/form-parameters.js';
import type { Client } from '../store/clients-repository.js';
import type { IssueContext, TokenResponse } from '../tokens/issue.js';

/** What a grant type may need to know about the request besides its parameters. */
export interface TokenRequestContext {
  /** The client IP (ctx.ip, honouring TRUST_PROXY). */
  ip: string;
  /** The `resource` parameters (RFC 8707), possibly none. */
  resources: readonly string[];
  /** The request's verified DPoP proof (RFC 9449), when it carried one. */
  dpop?: Pick<TokenRequestProof, 'jkt'> | undefined;
  /**
   * Resolves once the request's one-time values (its client assertion's jti, its DPoP proof's jti)
   * are claimed against replay; rejects (invalid_client, invalid_dpop_proof) when one was used
   * before. Their claims run while the grant reads and signs: await it before storing anything.
   */
  replayChecked: Promise<void>;
}

/** What every grant type module (password, refresh_token, client_credentials) provides. */
export interface GrantTypeHandler<S extends FormParametersSchema = FormParametersSchema> {
  grantType: string;
  /** JSON Schema of the grant type's own form parameters; checked before handle(). */
  parameters: S;
  handle(deps: Deps, client: Client, parameters: FormParameters<S>, request: TokenRequestContext): Promise<TokenResponse>;
}

/** Declares a grant type; its parameters are typed from its schema. */
export function defineGrantType<const S extends FormParametersSchema>(handler: GrantTypeHandler<S>): GrantTypeHandler<S> {
  return handler;
}

export function issueContext(deps: Pick<Deps, 'config' | 'refreshTokenSecret' | 'keys' | 'clock' | 'statusLists'>): IssueContext {
  return {
    issuer: deps.config.issuer,
    accessTokenTtl: deps.config.accessTokenTtl,
    refreshTokenIdleTtl: deps.config.refreshTokenIdleTtl,
    refreshTokenSecret: deps.refreshTokenSecret,
    keys: deps.keys,
    clock: deps.clock,
    statusLists: deps.statusLists.allocator,
  };
}
