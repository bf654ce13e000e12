/* widget-server reader reports: the small form under a comment whose "Report" button a reader
 * pressed (POST /api/v1/comments/<id>/report). An ES module that /widget.js imports on the first
 * press, so readers who never report never download it. It receives everything from the widget
 * (no globals): the API helper, its element builder and error wording, the comment and the
 * button; reader text only ever goes in as text. docs/moderation.md, "Reader reports". */
"use strict";

// The form's words in English; every other language is the `report` table of static/i18n/LANG.json,
// fetched from the server this module came from on the first report.
const EN = { title: "Report this comment", spam: "Spam or advertising", abusive: "Abusive or hateful",
  off_topic: "Off topic", illegal: "Illegal content", note: "What is illegal, and why?",
  noteOptional: "Anything the moderators should know? (optional)", send: "Send report",
  cancel: "Cancel", done: "Thank you: the moderators will look at it.", need: "Please explain briefly." };
const tables = {}; // language -> its words, once
const wordsIn = (language) => tables[language] ||= language === "en" ? EN
  : fetch(new URL(`/widget-i18n/report/${language}.json`, import.meta.url), { credentials: "omit" })
    .then((response) => response.ok && response.json()).then((table) => ({ ...EN, ...table }), () => EN);
const REASONS = ["spam", "abusive", "off_topic", "illegal"];
const MAX_NOTE = 500;
let formCount = 0;

/* Open the form under the comment's actions (again: focus the open one). `options`: api,
 * element, errorText (the widget's), language, comment (its public view), button (the
 * comment's "Report" button, expanded while the form is open). */
export default async function openReport({ api, element, errorText, language, comment, button }) {
  const words = await wordsIn(language); // then no await until the form is in: a second press finds it
  const open = button.parentNode.nextElementSibling;
  if (open && open.dataset.report) return open.querySelector("input").focus();
  const id = `ws-report-${++formCount}`;
  const choices = REASONS.map((reason, i) => {
    const radio = element("input", { type: "radio", name: id, value: reason, checked: i === 0 });
    // One choice a line, each radio 24 px (WCAG 2.2 target size). Set through the CSSOM: a host
    // page's strict CSP refuses style attributes in markup, never these.
    radio.style.inlineSize = radio.style.blockSize = "24px";
    const label = element("label", { class: "ck" }, radio, words[reason]);
    label.style.display = "flex";
    label.style.alignItems = "center";
    label.style.gap = "0.5em";
    return label;
  });
  const note = element("textarea", { id: id + "-n", rows: 2, maxlength: MAX_NOTE, part: "textarea" });
  const noteLabel = element("label", { for: note.id, text: words.noteOptional });
  const line = element("p", { class: "er", role: "alert", part: "error" });
  const form = element("form", { "data-report": "1", novalidate: true, part: "form" },
    element("fieldset", null, element("legend", { text: words.title }), ...choices),
    element("div", null, noteLabel, note), line,
    element("div", { class: "bar" },
      element("button", { type: "button", class: "b", "data-action": "cancel-report", text: words.cancel }),
      element("button", { class: "b p", part: "button button-primary", text: words.send })));
  const chosen = () => form.querySelector("input:checked").value;
  form.addEventListener("change", () => {
    noteLabel.textContent = chosen() === "illegal" ? words.note : words.noteOptional;
  });
  const close = (message) => {
    form.remove();
    button.setAttribute("aria-expanded", "false");
    if (message) button.replaceWith(element("span", { class: "nt", role: "status", text: message }));
    else button.focus();
  };
  form.addEventListener("click", (event) => {
    if (event.target.closest("[data-action=cancel-report]")) {
      event.stopPropagation();
      close();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = chosen(), text = note.value.trim();
    if (reason === "illegal" && !text) {
      line.textContent = words.need;
      return note.focus();
    }
    try {
      await api("POST", `/comments/${comment.id}/report`, { body: { reason, note: text } });
      close(words.done);
    } catch (error) {
      line.textContent = errorText(error);
    }
  });
  button.setAttribute("aria-expanded", "true");
  button.parentNode.after(form);
  choices[0].firstChild.focus();
}
