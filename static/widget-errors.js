/* widget-server error wording: an ES module that /widget.js imports on the first error when the
 * reader's language is not English (English readers get the server's own words). The server
 * answers every error with a stable `code`, and a 400 with a code per field (`field_codes`,
 * `field_params` for the numbers); this module words them from the language's `errors` table
 * (static/i18n/LANG.json, served at /widget-i18n/errors/LANG.json, from the server this module
 * came from). docs/translating.md. */
"use strict";

const tables = {}; // language -> its table, once

/* Resolves to word(error, label): the reader's sentence for an API error; `label(field)` is the
 * form's name for a field, if it has one. Rejects if the table cannot be loaded (the widget then
 * keeps the server's English). */
export default async function errorWords(language) {
  const table = await (tables[language] ||= fetch(new URL(`/widget-i18n/errors/${language}.json`, import.meta.url),
    { credentials: "omit" }).then((response) => response.ok ? response.json() : Promise.reject(response.status))
    .catch((reason) => { delete tables[language]; throw reason; })); // asked again at the next error
  const number = new Intl.NumberFormat(language);
  return (error, label) => {
    const { field_codes: codes = {}, field_params: params = {} } = error;
    const fields = Object.keys(error.fields || {}).map((field) => {
      const words = (table[codes[field]] || table.invalid)
        .replace(/\{(\w+)\}/g, (_, key) => number.format((params[field] || {})[key]));
      return label(field) ? `${label(field)}: ${words}` : words;
    });
    return fields.join(" ") || table[error.code] || table.error;
  };
}
