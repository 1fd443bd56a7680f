/**
 * `monitors:` blocks (SPEC section 11): in fsql_project.yml (project defaults), on a
 * feature_views entry (the view) and on one of its columns. Each sets only the keys it names; a
 * key set to null turns that check off below it. `fsql monitor` merges them, column over view
 * over project over the built-in defaults (offline/monitor.ts).
 */
import { expectDuration, expectKeys, expectMapping, type Path } from './checks.js';
import type { MonitorConfig } from './types.js';
import type { YamlFile } from './yaml-file.js';

const KEYS = ['null_fraction_max', 'psi_max', 'mean_shift_max_sigma', 'distinct_change_max', 'baseline'];

export function readMonitors(y: YamlFile, path: Path, v: unknown): MonitorConfig {
  const m = expectMapping(y, path, v, 'monitors');
  expectKeys(y, path, m, KEYS, 'monitors');
  const out: MonitorConfig = {};
  const threshold = (key: string, what: string, ok: (n: number) => boolean): number | null | undefined => {
    const value = m[key];
    if (value === undefined) return undefined;
    if (value === null) return null;
    if (typeof value !== 'number' || !ok(value)) throw y.error([...path, key], `${key} must be ${what}, or null to turn the check off; not ${JSON.stringify(value)}.`);
    return value;
  };
  const set = <K extends keyof MonitorConfig>(k: K, v: MonitorConfig[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('nullFractionMax', threshold('null_fraction_max', 'a fraction from 0 to 1 (0.01: at most 1% NULLs)', (n) => n >= 0 && n <= 1));
  set('psiMax', threshold('psi_max', 'a positive number (0.2 is a common alarm level)', (n) => n > 0));
  set('meanShiftMaxSigma', threshold('mean_shift_max_sigma', "a positive number of the baseline's standard deviations (such as 3)", (n) => n > 0));
  set('distinctChangeMax', threshold('distinct_change_max', "a positive fraction of the baseline's distinct count (0.1: 10%)", (n) => n > 0));
  if (m.baseline !== undefined) {
    const seconds = expectDuration(y, [...path, 'baseline'], m.baseline, 'baseline');
    if (!seconds || seconds <= 0) throw y.error([...path, 'baseline'], "baseline must be a positive duration such as 7d (the runs recorded within it before the newest are the baseline).");
    out.baselineSeconds = seconds;
  }
  return out;
}
