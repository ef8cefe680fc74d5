import { setFlagsFromString } from 'node:v8';

/**
 * Imported first by src/main.ts, before anything allocates much. V8's allocation-site pretenuring
 * off: after a burst where request objects live a little longer (200 concurrent introspections
 * waiting for their coalesced lookup), V8 starts allocating those sites' objects (Koa contexts,
 * headers, promises) straight in the old generation, and keeps doing so for every later request:
 * the old generation then fills with short-lived objects between major collections. Measured at
 * 200 connections (docs/performance.md): introspection 228 → 174 µs of CPU per request, JWKS after
 * it 50 → 24 µs, peak RSS 211 → 158 MB. Gatehouse keeps no long-lived data per request for
 * pretenuring to help with.
 */
setFlagsFromString('--no-allocation-site-pretenuring');
