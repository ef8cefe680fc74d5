import { startKoaResourceServer } from '../../examples/koa-resource-server.js';
import { describeResourceServer } from '../helpers/resource-server-cases.js';

describeResourceServer('examples/koa-resource-server.ts (jose createRemoteJWKSet)', startKoaResourceServer, { rejectsReplayedProofs: true });
