import { startExpressResourceServer } from '../../examples/express-resource-server.js';
import { describeResourceServer } from '../helpers/resource-server-cases.js';

describeResourceServer('examples/express-resource-server.ts (express-oauth2-jwt-bearer)', startExpressResourceServer);
