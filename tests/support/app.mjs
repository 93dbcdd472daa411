// The web app as a person drives it, shared by the end-to-end tests.

/** Runs a search through the form and returns the shown results. */
export async function searchInApp(page, query, mode = 'hybrid') {
  await page.check(`#mode-${mode}`);
  await page.fill('#query', query);
  await page.$eval('#result-summary', (el) => { el.textContent = ''; });
  await page.press('#query', 'Enter');
  await page.waitForFunction(
    () => document.querySelector('#result-summary').textContent !== '' &&
      !document.querySelector('#results').hasAttribute('aria-busy'),
    null,
    { timeout: 60_000 },
  );
  return page.$$eval('#results li.result', (items) =>
    items.map((li) => ({
      id: li.querySelector('.result-id').textContent,
      lang: li.querySelector('.result-lang').textContent,
      title: li.querySelector('.result-title').textContent,
      passage: li.querySelector('.result-passage').textContent,
      marked: li.querySelector('.result-passage mark')?.textContent ?? null,
    })),
  );
}
