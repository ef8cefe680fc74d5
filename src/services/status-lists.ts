import { createHash } from 'node:crypto';
import type { KeyService } from '../keys/key-service.js';
import { addSeconds, epochSeconds, type Clock } from '../lib/clock.js';
import { statusEntryOfJti } from '../lib/status-jti.js';
import type { Client } from '../store/clients-repository.js';
import type { Database, Queryable } from '../store/database.js';
import type { GrantSelector } from '../store/grants-repository.js';
import {
  findRevokedIndices,
  findStatusListVersions,
  flipGrantTokens,
  flipStatusEntry,
  leaseBlock,
  listLiveStatusListIds,
  openStatusList,
  revokeClientBlocks,
  type StatusEntry,
  type StatusListVersion,
} from '../store/status-lists-repository.js';
import { encodeStatusBits, signStatusListToken } from '../tokens/status-list-token.js';

export type { StatusEntry } from '../store/status-lists-repository.js';

/** Entries per list: 2^20 bits, 128 KiB raw, about 130 bytes compressed while all zero. */
export const STATUS_LIST_SIZE = 2 ** 20;
/** Indices an instance leases at once for one client. */
export const STATUS_BLOCK_SIZE = 1024;
/** How long an instance hands out indices of one leased block; then it leases a fresh one. */
export const STATUS_LEASE_SECONDS = 300;

export interface StatusListSettings {
  issuer: string;
  accessTokenTtl: number;
  refreshReuseGrace: number;
  statusListTtl: number;
}

/** The URI of a list, as tokens name it and `sub` says. */
export function statusListUri(issuer: string, listId: number): string {
  return `${issuer}/statuslists/${listId}`;
}

interface HeldBlock {
  listId: number;
  next: number;
  end: number;
  usableUntil: number;
}

/**
 * Hands out status list indices from blocks leased in the database (one statement per block of
 * STATUS_BLOCK_SIZE, none per token). Blocks are per client, and per view of the client: once this
 * instance sees the client revoked (its tokens_valid_after moved) or re-created, it leases a new
 * block, since a revocation by client sets every bit of the blocks leased before it.
 */
export class StatusListAllocator {
  private readonly blocks = new Map<string, HeldBlock>();
  private readonly leasing = new Map<string, Promise<void>>();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly settings: StatusListSettings,
  ) {}

  async allocate(client: Pick<Client, 'id' | 'createdAt' | 'tokensValidAfter'>): Promise<StatusEntry & { uri: string }> {
    const key = `${client.id}\u0000${client.createdAt.getTime()}\u0000${client.tokensValidAfter?.getTime() ?? ''}`;
    for (;;) {
      const now = this.clock.now().getTime();
      const block = this.blocks.get(key);
      if (block && block.next < block.end && now < block.usableUntil) {
        const idx = block.next++;
        return { listId: block.listId, idx, uri: statusListUri(this.settings.issuer, block.listId) };
      }
      // Requests that find the block used up share one lease, then take indices from it.
      let leasing = this.leasing.get(key);
      if (!leasing) {
        leasing = this.lease(client.id)
          .then((leased) => this.remember(key, leased))
          .finally(() => this.leasing.delete(key));
        this.leasing.set(key, leasing);
      }
      await leasing;
    }
  }

  private remember(key: string, block: HeldBlock): void {
    if (this.blocks.size >= 10_000) {
      const now = this.clock.now().getTime();
      for (const [k, b] of this.blocks) if (b.usableUntil <= now || b.next >= b.end) this.blocks.delete(k);
    }
    this.blocks.set(key, block);
  }

  private async lease(clientId: string): Promise<HeldBlock> {
    const leasedAt = this.clock.now();
    const usableUntil = addSeconds(leasedAt, STATUS_LEASE_SECONDS);
    // The last token from this block expires by then (a reissue within REFRESH_REUSE_GRACE shares
    // its index with the token it repeats); the list must be served for one more ttl after that.
    const { accessTokenTtl, refreshReuseGrace, statusListTtl } = this.settings;
    const listExpiresAt = addSeconds(usableUntil, accessTokenTtl + refreshReuseGrace + statusListTtl);
    for (let attempt = 0; attempt < 5; attempt++) {
      const block = await leaseBlock(this.db, { clientId, count: STATUS_BLOCK_SIZE, leasedAt, listExpiresAt });
      if (block) return { listId: block.listId, next: block.firstIdx, end: block.firstIdx + block.count, usableUntil: usableUntil.getTime() };
      await openStatusList(this.db, { size: STATUS_LIST_SIZE, createdAt: leasedAt, expiresAt: listExpiresAt });
    }
    throw new Error('could not lease a block of status list indices');
  }
}

/**
 * Sets the status bits of every access token a grant revocation ends, in one statement: for a
 * client, every block of its tokens leased up to `at` (all its tokens take their indices from its
 * blocks, client_credentials tokens included); for a user or a grant, the indices recorded on the
 * live grants and their refresh tokens. Call it in the revocation's transaction, before the grants
 * are revoked or deleted.
 */
export async function flipRevokedGrantTokens(tx: Queryable, selector: GrantSelector, at: Date): Promise<void> {
  if ('clientId' in selector) await revokeClientBlocks(tx, selector.clientId, at);
  else await flipGrantTokens(tx, selector);
}

/** Sets the status bit an access token's jti names (tokens issued before status lists have none). */
export async function flipRevokedAccessToken(tx: Queryable, jti: string): Promise<void> {
  const entry = statusEntryOfJti(jti);
  if (entry) await flipStatusEntry(tx, entry);
}

/** What GET /statuslists/{id} answers. */
export interface ServedStatusList {
  token: string;
  etag: string;
  /** Seconds a cache may keep it: never beyond the ttl. */
  maxAge: number;
}

interface SignedList {
  version: string;
  kid: string;
  token: string;
  etag: string;
  exp: number;
}

/**
 * Serves status list tokens from memory. Each request asks the database for the list's version
 * (one indexed lookup, shared by the requests that arrive while another lookup is under way: they
 * wait for one that starts after they arrived, so none misses a revocation committed before it),
 * and the list is rebuilt and signed only when the version or the signing key changed, or its exp
 * nears.
 */
export class StatusListPublisher {
  private readonly signed = new Map<number, SignedList>();
  private readonly building = new Map<string, Promise<SignedList>>();
  private batch: { ids: Set<number>; result: Promise<Map<number, StatusListVersion>> } | undefined;
  private lastQuery: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly keys: Pick<KeyService, 'signingKey'>,
    private readonly clock: Clock,
    private readonly settings: Pick<StatusListSettings, 'issuer' | 'statusListTtl'>,
  ) {}

  /** How long a signed list is valid: long enough that re-signing is rare, at least two ttls. */
  private get lifetime(): number {
    return Math.max(3600, 2 * this.settings.statusListTtl);
  }

  async serve(listId: number): Promise<ServedStatusList | undefined> {
    const version = await this.currentVersion(listId);
    if (!version) {
      this.signed.delete(listId);
      return undefined;
    }
    const kid = this.keys.signingKey().kid;
    const now = epochSeconds(this.clock.now());
    let list = this.signed.get(listId);
    if (!list || list.version !== version.version || list.kid !== kid || list.exp - now < this.lifetime / 2) {
      list = await this.build(version, kid);
      this.signed.set(listId, list);
    }
    return { token: list.token, etag: list.etag, maxAge: Math.max(0, Math.min(this.settings.statusListTtl, list.exp - now)) };
  }

  /** The URIs of the lists a live token may point at (the aggregation endpoint). */
  async liveListUris(): Promise<string[]> {
    return (await listLiveStatusListIds(this.db, this.clock.now())).map((id) => statusListUri(this.settings.issuer, id));
  }

  private currentVersion(listId: number): Promise<StatusListVersion | undefined> {
    let batch = this.batch;
    if (!batch) {
      const ids = new Set<number>();
      const opened: { ids: Set<number>; result: Promise<Map<number, StatusListVersion>> } = {
        ids,
        // Starts once the lookup under way (if any) has finished; closes the batch as it starts.
        result: this.lastQuery.then(async () => {
          if (this.batch === opened) this.batch = undefined;
          const versions = await findStatusListVersions(this.db, [...ids]);
          return new Map(versions.map((v) => [v.id, v]));
        }),
      };
      this.batch = batch = opened;
      this.lastQuery = opened.result.catch(() => undefined);
    }
    batch.ids.add(listId);
    return batch.result.then((versions) => versions.get(listId));
  }

  private build(version: StatusListVersion, kid: string): Promise<SignedList> {
    const key = `${version.id}\u0000${version.version}\u0000${kid}`;
    let building = this.building.get(key);
    if (!building) {
      building = (async () => {
        const lst = encodeStatusBits(version.size, await findRevokedIndices(this.db, version.id));
        const iat = epochSeconds(this.clock.now());
        const exp = iat + this.lifetime;
        const uri = statusListUri(this.settings.issuer, version.id);
        const token = await signStatusListToken(this.keys.signingKey(), { issuer: this.settings.issuer, uri, iat, exp, ttl: this.settings.statusListTtl, lst });
        // Names list, version, key and iat: the same signed token, the same tag.
        const etag = `"${createHash('sha256').update(`${version.id}:${version.version}:${kid}:${iat}`).digest('base64url').slice(0, 27)}"`;
        return { version: version.version, kid, token, etag, exp };
      })().finally(() => this.building.delete(key));
      this.building.set(key, building);
    }
    return building;
  }
}
