import { readFile } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { loadConfig } from '../config.js';
import { createAdminDeps, type AdminDeps } from '../admin-deps.js';
import { OAuthError } from '../errors.js';
import type { KeyService } from '../keys/key-service.js';
import { createKeyService } from '../keys/policy.js';
import { reencryptSigningKeys } from '../keys/reencrypt.js';
import { systemClock } from '../lib/clock.js';
import { parseScope } from '../lib/scope.js';
import { packageVersion } from '../lib/version.js';
import { escapeUsername } from '../lib/username.js';
import { applyMigrations, closeConfiguredDatabase, DatabaseInUseError, openConfiguredDatabase, operatorErrorMessage } from '../runtime.js';
import { CLI_ACTOR } from '../services/actor.js';
import { parseClientJwks } from '../client-assertions/client-jwks.js';
import { CLIENT_AUTHENTICATION_METHODS, createClient, listEveryClient, validateClientInput, validateScopes } from '../services/clients.js';
import { createResource, listEveryResource, validateResourceUri } from '../services/resources.js';
import type { ClientAuthenticationMethod } from '../store/clients-repository.js';
import { listEveryLiveGrant } from '../services/grants.js';
import { revokeTarget, type RevocationTarget } from '../services/revocation.js';
import { createUser, listEveryUser, normalizeUsername, validateEmail, validatePassword } from '../services/users.js';
import { presentClient, presentGrant, presentKey, presentResource, presentUser } from '../services/presenters.js';
import { table } from './listing.js';
import { cliSocketPath, keySecretCheck, sendToServer } from './socket.js';

/**
 * JSON whose text a terminal shows as it is: the characters JSON.stringify leaves raw that a terminal
 * would act on or hide (DEL and C1 controls, bidirectional and other format characters, line and
 * paragraph separators, private-use and unassigned ones, e.g. in a refused username) are written
 * as \u escapes. The same JSON value either way.
 */
function terminalSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/gu, (character) =>
    // Per UTF-16 unit: an astral character becomes its surrogate pair of escapes, as JSON writes it.
    character
      .split('')
      .map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`)
      .join(''),
  );
}

/** A failure to show as one line. */
export class CliError extends Error {}

/** What the commands work on: the admin services, and the key service of that database. */
export type CliDeps = AdminDeps & { keys: Pick<KeyService, 'listStored' | 'rotateNow'> };

/**
 * Where a command runs: its output, its input and its database. Standalone (`localContext`) that is
 * the process's own streams and a database it opens; inside a running server (src/cli/socket.ts) it
 * is buffers, what the CLI sent over the socket, and the server's own database and services.
 */
export interface CliContext {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Standard input (for --password-stdin and --old-secret-stdin); undefined when it is a terminal. */
  readStdin(): Promise<string | undefined>;
  /** The contents of a file named on the command line (user import). */
  readFile(path: string): Promise<string>;
  /**
   * Runs `action` on the database. `exclusive`: the command needs the database to itself (keys
   * reencrypt); `migrate: false`: do not apply migrations first (the migrate command does).
   */
  withDatabase<T>(action: (deps: CliDeps) => Promise<T>, options?: { exclusive?: boolean; migrate?: boolean }): Promise<T>;
  /** Where a long command draws its progress bar (a terminal); none inside the server. */
  progress?: NodeJS.WriteStream | undefined;
  /** Set by a command that finished but partly failed (user import). */
  exitCode?: number;
}

/**
 * How long the CLI retries a DATA_DIR held by a process without a CLI socket: a server opens its
 * socket right after it takes DATA_DIR, so this covers that moment (another CLI command may hold it
 * for longer: the CLI then says so rather than wait).
 */
const HELD_WAIT_MS = 1_000;

/** Thrown by the standalone context when a running server holds the embedded DATA_DIR. */
export class HeldByServer extends Error {
  constructor(readonly held: DatabaseInUseError) {
    super(held.message);
  }
}

const SILENT_DATABASE_LOG = { warn: () => undefined, error: () => undefined };

/** The CLI as its own process: its streams, and the configured database opened for each command. */
export function localContext(): CliContext & { stdinRead?: string; filesRead: Record<string, string> } {
  const context: CliContext & { stdinRead?: string; filesRead: Record<string, string> } = {
    filesRead: {},
    progress: process.stderr,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    async readStdin() {
      // Read once: a command run again (see runCli) gets the same input.
      if (context.stdinRead !== undefined) return context.stdinRead;
      if (process.stdin.isTTY) return undefined;
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      context.stdinRead = Buffer.concat(chunks).toString('utf8');
      return context.stdinRead;
    },
    async readFile(path) {
      const contents = await readFile(path, 'utf8');
      context.filesRead[path] = contents;
      return contents;
    },
    async withDatabase(action, options = {}) {
      const config = loadConfig();
      let opened: Awaited<ReturnType<typeof openConfiguredDatabase>>;
      try {
        // knex's own warnings (a failed connection attempt, with its stack) would go to stdout,
        // into --json output: the command's one-line error says what failed.
        opened = await openConfiguredDatabase(config, { migrate: options.migrate ?? true, logger: SILENT_DATABASE_LOG });
      } catch (error) {
        // A server holds the embedded database: the command runs there (runCli forwards it).
        if (!(error instanceof DatabaseInUseError)) throw error;
        if (options.exclusive) {
          throw new CliError(
            `this command needs the embedded database to itself: stop the Gatehouse process (pid ${error.pid}) that holds ${error.dataDir} first`,
          );
        }
        throw new HeldByServer(error);
      }
      const { db, config: complete } = opened;
      try {
        return await action({ ...createAdminDeps(complete, db, systemClock), keys: createKeyService(complete, db, systemClock) });
      } finally {
        await closeConfiguredDatabase(db);
      }
    },
  };
  return context;
}

/** The options of `client create`, as commander names them. */
interface ClientCreateOptions {
  id: string;
  secret?: string;
  public?: boolean;
  grants: string;
  scopes: string;
  audience?: string;
  resources?: string;
  authMethod?: string;
  jwks?: string;
  jwksUri?: string;
  dpopBound?: boolean;
  json?: boolean;
}

export function buildProgram(context: CliContext): Command {
  const print = (json: boolean | undefined, value: unknown, human: string): void => context.stdout(json ? `${terminalSafeJson(value)}\n` : `${human}\n`);
  const withDatabase = context.withDatabase.bind(context);
  const readStdin = async (flag = '--password-stdin', what = 'the password'): Promise<string> => {
    const text = await context.readStdin();
    if (text === undefined) throw new CliError(`${flag} reads ${what} from standard input; pipe it in`);
    return text.replace(/\r?\n$/, '');
  };
  const program = new Command('gatehouse')
    .version(packageVersion(), '-V, --version', 'print the version')
    .description('Gatehouse OAuth 2 authorization server: administration commands. Uses DATABASE_URL, or the embedded database in DATA_DIR.')
    .exitOverride()
    // One line per failure, starting with "gatehouse:" like every other failure of the CLI, also for
    // commander's usage errors ("error: unknown option …", with a suggestion "Did you mean …?").
    .configureOutput({
      writeOut: (text) => context.stdout(text),
      writeErr: (text) => context.stderr(text),
      outputError: (message, write) =>
        write(
          `gatehouse: ${message
            .trim()
            .replace(/^error:\s*/, '')
            .replace(/\s*\n\s*/g, ' ')}\n`,
        ),
    });

  program
    .command('migrate')
    .description('apply database migrations')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const applied = await withDatabase(({ db }) => applyMigrations(db), { migrate: false });
      print(options.json, { applied }, applied.length ? `applied ${applied.join(', ')}` : 'already up to date');
    });

  const client = program.command('client').description('manage OAuth clients');
  client
    .command('create')
    .description('register a client; prints {"client_id","client_secret"} (the secret is shown only once)')
    .requiredOption('--id <id>', 'client id')
    .addOption(new Option('--secret <secret>', 'client secret (at least 32 characters; generated when omitted)').conflicts('public'))
    .option('--public', 'a public client (no secret; authenticates with client_id only)')
    .requiredOption('--grants <list>', 'grant types: password, refresh_token, client_credentials (commas or spaces)')
    .requiredOption('--scopes <list>', 'scopes the client may request (commas or spaces)')
    .option('--audience <aud>', 'aud of its access tokens when a request names no resource (default: the issuer)')
    .option('--resources <list>', 'RFC 8707 resources (registered URIs) it may ask tokens for (commas or spaces)')
    .addOption(
      new Option(
        '--auth-method <method>',
        'how it authenticates: client_secret_basic (default), private_key_jwt (with --jwks or --jwks-uri), none (= --public)',
      ).choices([...CLIENT_AUTHENTICATION_METHODS]),
    )
    .addOption(new Option('--jwks <json>', 'private_key_jwt: its JWK Set {"keys":[...]} (public keys)').conflicts('jwksUri'))
    .option('--jwks-uri <url>', 'private_key_jwt: the https URL (http on a loopback address) where it publishes its JWK Set')
    .option('--dpop-bound', 'every token request must carry a DPoP proof (RFC 9449 dpop_bound_access_tokens)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  gatehouse client create --id app --grants password,refresh_token --scopes "read write"\n' +
        '  gatehouse client create --id worker --grants client_credentials --scopes orders:read --resources https://orders.example.com \\\n' +
        '    --auth-method private_key_jwt --jwks-uri https://worker.example.com/jwks.json',
    )
    .action(async (options: ClientCreateOptions) => {
      let jwks: unknown;
      if (options.jwks !== undefined) {
        const parsed = parseClientJwks(options.jwks);
        if (!parsed.valid) throw new CliError(`--jwks: ${parsed.problem}`);
        jwks = parsed.jwks;
      }
      const input = {
        id: options.id,
        secret: options.secret,
        public: options.public,
        grantTypes: parseScope(options.grants),
        scopes: parseScope(options.scopes),
        audience: options.audience,
        resources: parseScope(options.resources),
        authMethod: options.authMethod as ClientAuthenticationMethod | undefined,
        jwks,
        jwksUri: options.jwksUri,
        dpopBoundAccessTokens: options.dpopBound,
      };
      // Bad arguments are refused before the database is opened (or, embedded, created).
      validateClientInput(input);
      const result = await withDatabase((deps) => createClient(deps, input, CLI_ACTOR));
      print(true, { client_id: result.client.id, client_secret: result.clientSecret }, '');
    });

  client
    .command('list')
    .description('list clients (never their secrets)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const rows = await withDatabase(async ({ db }) => (await listEveryClient(db)).map(presentClient));
      print(
        options.json,
        rows,
        table(rows, ['client_id', 'token_endpoint_auth_method', 'grant_types', 'scopes', 'audience', 'resources', 'dpop_bound_access_tokens']),
      );
    });

  const resource = program.command('resource').description('manage RFC 8707 resources (APIs that tokens may be meant for)');
  resource
    .command('create')
    .description('register a resource: its URI (the aud of its tokens) and the scopes it defines; prints {"uri","scopes"}')
    .requiredOption('--uri <uri>', 'the resource indicator: an absolute URI without a fragment')
    .requiredOption('--scopes <list>', 'the scopes it defines (commas or spaces)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  gatehouse resource create --uri https://orders.example.com --scopes "orders:read orders:write"')
    .action(async (options: { uri: string; scopes: string; json?: boolean }) => {
      const input = { uri: validateResourceUri(options.uri), scopes: validateScopes(parseScope(options.scopes)) };
      const created = await withDatabase((deps) => createResource(deps, input, CLI_ACTOR));
      print(options.json, { uri: created.uri, scopes: created.scopes }, `created resource ${created.uri} (scopes ${created.scopes.join(' ')})`);
    });
  resource
    .command('list')
    .description('list resources')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const rows = await withDatabase(async ({ db }) => (await listEveryResource(db)).map(presentResource));
      print(options.json, rows, table(rows, ['uri', 'scopes', 'created_at']));
    });

  const user = program.command('user').description('manage users');
  user
    .command('list')
    .description('list users')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const rows = await withDatabase(async ({ db }) => (await listEveryUser(db)).map(presentUser));
      print(options.json, rows, table(rows, ['id', 'username', 'email', 'scopes', 'disabled']));
    });
  user
    .command('import <file>')
    .description('create users from a CSV file with a header row: username,password[,email][,name][,scopes]')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nScopes are space-separated. A bad row is reported and skipped; the exit code is 1 if any row failed.\nExample:\n  gatehouse user import users.csv',
    )
    .action(async (file: string, options: { json?: boolean }) => {
      const csv = await context.readFile(file);
      // Loaded for this command only: the CSV parser and the progress bar are thirty files more to read.
      const { importUsers } = await import('./user-import.js');
      const result = await withDatabase((deps) => importUsers(deps, csv, context.progress));
      // A refused name may hold controls or bidirectional overrides: shown as code points, not as is.
      const failures = result.failed.map((f) => `line ${f.line} (${escapeUsername(f.username)}): ${f.error}`);
      print(options.json, result, [`created ${result.created} user(s)`, ...failures].join('\n'));
      if (result.failed.length > 0) context.exitCode = 1;
    });
  user
    .command('create')
    .description('create a user; the password is read from standard input')
    .requiredOption('--username <username>', 'login name')
    .requiredOption('--password-stdin', 'read the password from standard input')
    .option('--email <email>', 'email address (an access-token claim)')
    .option('--name <name>', 'display name (an access-token claim)')
    .requiredOption('--scopes <list>', 'scopes the user may be granted (commas or spaces)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  printf "%s" "$PASSWORD" | gatehouse user create --username alice --password-stdin --scopes read')
    .action(async (options: { username: string; email?: string; name?: string; scopes: string; json?: boolean }) => {
      const password = await readStdin();
      const input = { username: options.username, password, email: options.email, name: options.name, scopes: parseScope(options.scopes) };
      // Bad arguments are refused before the database is opened (or, embedded, created).
      normalizeUsername(input.username);
      validatePassword(password, loadConfig());
      if (input.email) validateEmail(input.email);
      validateScopes(input.scopes);
      const created = await withDatabase((deps) => createUser(deps, input, CLI_ACTOR));
      print(options.json, { id: created.id, username: created.username }, `created user ${created.username} (id ${created.id})`);
    });

  const keys = program.command('keys').description('signing keys');
  keys
    .command('list')
    .description('list signing keys and their states (next, current, retired)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const list = await withDatabase(({ keys }) => keys.listStored());
      const rows = list.map(presentKey);
      print(
        options.json,
        rows,
        list.length
          ? table(rows, ['kid', 'state', 'created_at', 'activated_at', 'remove_after'])
          : 'no keys yet (the server creates the first one when it starts)',
      );
    });
  keys
    .command('rotate')
    .description('promote the next key to current at once and publish a new next key')
    .option('--revoke-old', 'remove the old current key from the JWKS at once (key compromise)')
    .option('--json', 'print JSON')
    .action(async (options: { revokeOld?: boolean; json?: boolean }) => {
      const result = await withDatabase(({ keys }) => keys.rotateNow({ revokeOld: options.revokeOld === true, actor: CLI_ACTOR }));
      print(options.json, { current: result.current, next: result.next }, `current ${result.current}\nnext    ${result.next}`);
    });

  keys
    .command('reencrypt')
    .description('re-encrypt every private key under the current KEY_ENCRYPTION_SECRET; the old secret is read from standard input')
    .requiredOption('--old-secret-stdin', 'read the previous KEY_ENCRYPTION_SECRET from standard input')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nStop every server first, then start them with the new secret.\nExample:\n  printf "%s" "$OLD_SECRET" | KEY_ENCRYPTION_SECRET="$NEW_SECRET" gatehouse keys reencrypt --old-secret-stdin',
    )
    .action(async (options: { json?: boolean }) => {
      const oldSecret = await readStdin('--old-secret-stdin', 'the old KEY_ENCRYPTION_SECRET');
      if (!oldSecret) throw new CliError('--old-secret-stdin: standard input was empty');
      const result = await withDatabase(({ db, config }) => reencryptSigningKeys(db, oldSecret, config.keyEncryptionSecret as string), { exclusive: true });
      print(options.json, result, `re-encrypted ${result.reencrypted} key(s)${result.unchanged ? `, ${result.unchanged} already under the new secret` : ''}`);
    });

  program
    .command('grants')
    .description('active grants (sessions)')
    .command('list')
    .description('list active grants, newest first')
    .option('--username <username>')
    .option('--client-id <id>')
    .option('--json', 'print JSON')
    .action(async (options: { username?: string; clientId?: string; json?: boolean }) => {
      const username = options.username === undefined ? undefined : normalizeUsername(options.username);
      const rows = await withDatabase(async ({ db }) =>
        (await listEveryLiveGrant(db, { username, clientId: options.clientId, now: systemClock.now() })).map(presentGrant),
      );
      print(options.json, rows, table(rows, ['grant_id', 'username', 'client_id', 'scope', 'created_at']));
    });

  program
    .command('revoke')
    .description('revoke grants (sessions) by user, client or grant, or one access token by jti')
    .option('--username <username>')
    .option('--user-id <id>')
    .option('--client-id <id>')
    .option('--grant-id <id>')
    .option('--jti <jti>')
    .option('--json', 'print JSON')
    .action(async (options: { username?: string; userId?: string; clientId?: string; grantId?: string; jti?: string; json?: boolean }) => {
      const targets: RevocationTarget[] = [];
      if (options.username !== undefined) targets.push({ username: options.username });
      if (options.userId !== undefined) targets.push({ userId: options.userId });
      if (options.clientId !== undefined) targets.push({ clientId: options.clientId });
      if (options.grantId !== undefined) targets.push({ grantId: options.grantId });
      if (options.jti !== undefined) targets.push({ jti: options.jti });
      const [target] = targets;
      if (targets.length !== 1 || !target) throw new CliError('give exactly one of --username, --user-id, --client-id, --grant-id, --jti');
      const revoked = await withDatabase((deps) => revokeTarget(deps, target, { actor: CLI_ACTOR, reason: 'cli' }));
      print(options.json, { revoked }, `revoked ${revoked}`);
    });

  return program;
}

export function describe(error: unknown): string {
  if (error instanceof OAuthError) return error.description;
  if (error instanceof CliError) return error.message;
  const known = operatorErrorMessage(error);
  if (known !== undefined) return known;
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? 'failed';
}

/** Runs one command (`args` without node and the script) in `context`; returns its exit code. */
export async function runCommand(args: string[], context: CliContext): Promise<number> {
  const program = buildProgram(context);
  try {
    await program.parseAsync(args, { from: 'user' });
    return context.exitCode ?? 0;
  } catch (error) {
    if (error instanceof HeldByServer) throw error;
    if (error instanceof CommanderError) {
      // Help and version print and exit 0; usage errors were already printed by commander.
      return error.exitCode;
    }
    context.stderr(`gatehouse: ${describe(error)}\n`);
    return 1;
  }
}

/**
 * The `gatehouse` process: runs the command on the configured database; when a running server
 * holds the embedded DATA_DIR, sends the command (with the standard input and files it read) over
 * the server's socket and reproduces what the server answers.
 */
export async function runCli(argv: string[]): Promise<number> {
  const args = argv.slice(2);
  const context = localContext();
  // A server holds DATA_DIR a moment before its socket listens: retry briefly, then send the command
  // or run it here.
  const deadline = Date.now() + HELD_WAIT_MS;
  for (;;) {
    let held: HeldByServer;
    try {
      return await runCommand(args, context);
    } catch (error) {
      if (!(error instanceof HeldByServer)) throw error;
      held = error;
    }
    const ownSecret = loadConfig().keyEncryptionSecret;
    const answer = await sendToServer(cliSocketPath(held.held.dataDir), {
      argv: args,
      stdin: context.stdinRead ?? null,
      files: context.filesRead,
      ...(ownSecret === undefined ? {} : { keySecretCheck: keySecretCheck(ownSecret) }),
    });
    if (answer !== undefined) {
      process.stdout.write(answer.stdout);
      process.stderr.write(answer.stderr);
      return answer.code;
    }
    if (Date.now() > deadline) {
      const { dataDir, pid } = held.held;
      process.stderr.write(
        `gatehouse: the embedded database in ${dataDir} is held by another Gatehouse process (pid ${pid}) that takes no CLI commands (another command still running, or an older server): try again when it is done, or stop the server, or use the admin API\n`,
      );
      return 1;
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
}
