/** The fsql version, written into artifacts (manifest.json, run_results.json). */
export const FSQL_VERSION = '0.1.0';
