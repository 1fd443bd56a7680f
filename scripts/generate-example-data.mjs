#!/usr/bin/env node
// Regenerates data/transactions.csv and data/events.csv of the example project (deterministic).
// With --recent, the 60 days end yesterday instead of in April 2024, so that served values are
// within their TTLs (`git checkout data/` restores the committed files).
import { EXAMPLE_DATA, endingBefore, utcToday, writeExampleData } from '../dist/src/example/transactions.js';

const recent = process.argv.includes('--recent');
writeExampleData(new URL('../data', import.meta.url).pathname, recent ? endingBefore(EXAMPLE_DATA, utcToday()) : EXAMPLE_DATA);
