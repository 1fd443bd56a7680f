#!/usr/bin/env node
// Regenerates data/transactions.csv and data/events.csv of the example project (deterministic).
import { writeExampleData } from '../dist/src/example/transactions.js';
writeExampleData(new URL('../data', import.meta.url).pathname);
