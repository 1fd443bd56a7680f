/**
 * Deterministic card-transaction data for the example project (and `fsql init`): users,
 * merchants, amounts with a per-user habit, bursts of fraud with chargebacks.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { seededRandom } from '../seeded-random.js';

export interface ExampleDataOptions {
  transactions: number;
  users: number;
  merchants: number;
  /** first day, UTC */
  start: string;
  days: number;
  seed: number;
}

export const EXAMPLE_DATA: ExampleDataOptions = { transactions: 40000, users: 2000, merchants: 300, start: '2024-03-01', days: 60, seed: 7 };

/** The sample `fsql init` writes: a month of transactions. */
export const INIT_DATA: Omit<ExampleDataOptions, 'start'> = { transactions: 5000, users: 300, merchants: 50, days: 30, seed: 11 };

/** `o` moved to end the day before `today` (YYYY-MM-DD, UTC): its last day is yesterday. */
export function endingBefore(o: Omit<ExampleDataOptions, 'start'>, today: string): ExampleDataOptions {
  return { ...o, start: new Date(Date.parse(`${today}T00:00:00Z`) - o.days * 86400_000).toISOString().slice(0, 10) };
}

/** Today's date in UTC, YYYY-MM-DD. */
export function utcToday(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

export function generateTransactions(o: ExampleDataOptions): string {
  const rand = seededRandom(o.seed);
  const start = Date.parse(`${o.start}T00:00:00Z`);
  const span = o.days * 86400;
  const habit = Array.from({ length: o.users }, () => 10 + rand() * 140);
  const riskyMerchant = Array.from({ length: o.merchants }, () => rand() < 0.05);
  const rows: [number, string][] = [];
  for (let i = 0; i < o.transactions; i++) {
    const user = Math.floor(Math.pow(rand(), 1.6) * o.users);
    const merchant = Math.floor(rand() * o.merchants);
    const seconds = Math.floor(rand() * span);
    const fraud = rand() < (riskyMerchant[merchant] ? 0.15 : 0.01);
    const amount = Math.round(habit[user] * (fraud ? 3 + rand() * 6 : 0.3 + rand() * 1.4) * 100) / 100;
    const chargeback = fraud && rand() < 0.8;
    const ts = new Date(start + seconds * 1000).toISOString().replace('T', ' ').slice(0, 19);
    rows.push([seconds, `u_${1000 + user},m_${merchant + 1},${amount.toFixed(2)},${ts},${chargeback}`]);
  }
  rows.sort((a, b) => a[0] - b[0]);
  return 'txn_id,user_id,merchant_id,amount,ts,is_chargeback\n' + rows.map(([, r], i) => `t_${100000 + i},${r}`).join('\n') + '\n';
}

/** Labelled events for `fsql train`: one row per sampled transaction, labelled by its chargeback. */
export function generateEvents(transactionsCsv: string, every: number): string {
  const lines = transactionsCsv.trim().split('\n').slice(1);
  const out = ['event_id,user_id,merchant_id,amount,event_timestamp,label'];
  for (let i = 0; i < lines.length; i += every) {
    const [id, user, merchant, amount, ts, chargeback] = lines[i].split(',');
    out.push(`e_${id.slice(2)},${user},${merchant},${amount},${ts},${chargeback === 'true' ? 1 : 0}`);
  }
  return out.join('\n') + '\n';
}

export function writeExampleData(dataDir: string, o: ExampleDataOptions = EXAMPLE_DATA): void {
  mkdirSync(dataDir, { recursive: true });
  const txns = generateTransactions(o);
  writeFileSync(`${dataDir}/transactions.csv`, txns);
  writeFileSync(`${dataDir}/events.csv`, generateEvents(txns, 20));
}
