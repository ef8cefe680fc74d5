#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// The embedded database is PGlite, PostgreSQL compiled to WebAssembly. A command lives a second or
// two: V8's optimizing compiler would spend more CPU on PGlite's code, in background threads, than
// it could save (a command took 2.4 s and 3.8 s of CPU without this flag, 1.6 s and 1.9 s with it).
setFlagsFromString('--liftoff-only');
await import('../dist/src/cli/run.js');
