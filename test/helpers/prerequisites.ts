/**
 * Tests that need a service this machine may lack (PostgreSQL, Redis, Chromium). Where it is
 * missing they are not registered at all (nothing is skipped), and a console line names them, which
 * test/summary-reporter.js collects into the list of what did not run. Whole files that need one
 * are left out by jest.config.js instead, since a file without tests is an error.
 */

/** Starts the console line of a group that cannot run here; the summary reporter looks for it. */
export const NOT_RUN_HERE = 'not run here:';

/** describe() when `available`, else a line saying what did not run and why. */
export function describeIf(available: boolean, name: string, needs: string, body: () => void): void {
  if (available) describe(name, body);
  else console.info(`${NOT_RUN_HERE} ${name} (needs ${needs})`);
}

/** it() when `available`, else a line saying what did not run and why. */
export function itIf(available: boolean, name: string, needs: string, body: () => Promise<void>, timeout?: number): void {
  if (available) it(name, body, timeout);
  else console.info(`${NOT_RUN_HERE} ${name} (needs ${needs})`);
}
