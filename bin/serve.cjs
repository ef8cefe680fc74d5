#!/usr/bin/env node
'use strict';
/**
 * What `npm start` runs: sizes libuv's thread pool, then loads the server (dist/src/main.js).
 *
 * The pool runs the RS256 signature of every token, DPoP and client assertion checks, and argon2.
 * Node's default is four threads whatever the machine; on a machine with fewer cores, four
 * signatures at once take cores from the event loop and from PostgreSQL. One thread per core (at
 * least two) served 20-40 % more client_credentials requests per second on two cores (bench/,
 * docs/performance.md). An operator's own UV_THREADPOOL_SIZE wins.
 *
 * CommonJS on purpose: libuv reads UV_THREADPOOL_SIZE once, when the pool first runs work, and
 * loading an ES module already does (its files are read through the pool). Loading this file does not.
 */
const { availableParallelism } = require('node:os');

if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = String(Math.max(2, availableParallelism()));
import('../dist/src/main.js');
