#!/usr/bin/env -S node --max-semi-space-size=32
// A larger young generation: sync, train output and serving allocate many short-lived rows, and
// with Node's default 16 MB semi-spaces the scavenger costs a quarter of a sync's CPU.
import '../dist/src/cli/main.js';
