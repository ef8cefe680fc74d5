/**
 * After the run: one line per project (tier) with its counts and the time its files took, then
 * every test that did not run here, and why: the files jest.config.js left out for a missing
 * service (its `leftOut` option), and the groups test/helpers/prerequisites.ts did not register (the
 * console lines they printed; in verbose runs those lines are printed as they come instead). Nothing is skipped silently.
 */
const NOT_RUN_HERE = 'not run here:';

export default class SummaryReporter {
  constructor(_globalConfig, options = {}) {
    this.notRun = new Set((options.leftOut ?? []).map(({ file, needs }) => `  ${file} (needs ${needs})`));
  }

  /** The console lines of each file, read here: jest drops them once every reporter has seen them. */
  onTestResult(_test, result) {
    for (const entry of result.console ?? []) {
      if (typeof entry.message === 'string' && entry.message.startsWith(NOT_RUN_HERE)) this.notRun.add(`  ${entry.message.slice(NOT_RUN_HERE.length).trim()}`);
    }
  }

  onRunComplete(_contexts, results) {
    const projects = new Map();
    for (const file of results.testResults) {
      const name = typeof file.displayName === 'object' ? file.displayName?.name : file.displayName;
      const project = projects.get(name ?? '') ?? { files: 0, passed: 0, failed: 0, skipped: 0, seconds: 0 };
      project.files += 1;
      project.passed += file.numPassingTests;
      project.failed += file.numFailingTests + (file.testExecError ? 1 : 0);
      project.skipped += file.numPendingTests + file.numTodoTests;
      project.seconds += (file.perfStats.end - file.perfStats.start) / 1000;
      projects.set(name ?? '', project);
    }
    const lines = [...projects].map(
      ([name, p]) =>
        `  ${name || 'tests'}: ${p.files} files, ${p.passed} passed, ${p.failed} failed, ${p.skipped} skipped; ${Math.round(p.seconds)} s in its files`,
    );
    const notRun = this.notRun;
    for (const file of results.testResults) {
      for (const test of file.testResults) {
        if (test.status === 'pending' || test.status === 'skipped' || test.status === 'todo')
          notRun.add(`  ${[...test.ancestorTitles, test.title].join(' › ')} (skipped)`);
      }
    }
    let text = `\nBy project:\n${lines.join('\n')}\n`;
    if (notRun.size > 0) text += `${notRun.size} test group(s) not run here:\n${[...notRun].join('\n')}\n`;
    process.stderr.write(text);
  }
}
