/**
 * After the run: one line per project (tier) with its counts and the time its files took, then
 * every test that did not run, by name. A test that needs PostgreSQL is skipped without
 * TEST_DATABASE_URL and says so in its name: nothing is skipped silently.
 */
export default class SummaryReporter {
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
    const skipped = results.testResults.flatMap((file) =>
      file.testResults
        .filter((test) => test.status === 'pending' || test.status === 'skipped' || test.status === 'todo')
        .map((test) => `  ${[...test.ancestorTitles, test.title].join(' › ')}`),
    );
    let text = `\nBy project:\n${lines.join('\n')}\n`;
    if (skipped.length > 0) text += `${skipped.length} test(s) skipped:\n${skipped.join('\n')}\n`;
    process.stderr.write(text);
  }
}
