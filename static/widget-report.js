/* widget-server reader reports: the small form under a comment whose "Report" button a reader
 * pressed (POST /api/v1/comments/<id>/report). An ES module that /widget.js imports on the first
 * press, so readers who never report never download it. It receives everything from the widget
 * (no globals): the API helper, its element builder and error wording, the comment and the
 * button; reader text only ever goes in as text. docs/moderation.md, "Reader reports". */
"use strict";

// The form's words, in the widget's languages (English is the fallback).
const STRINGS = {
  en: { title: "Report this comment", spam: "Spam or advertising", abusive: "Abusive or hateful",
    off_topic: "Off topic", illegal: "Illegal content", note: "What is illegal, and why?",
    noteOptional: "Anything the moderators should know? (optional)", send: "Send report",
    cancel: "Cancel", done: "Thank you: the moderators will look at it.", need: "Please explain briefly." },
  de: { title: "Diesen Kommentar melden", spam: "Spam oder Werbung", abusive: "Beleidigend oder hasserfüllt",
    off_topic: "Am Thema vorbei", illegal: "Rechtswidriger Inhalt", note: "Was ist rechtswidrig, und warum?",
    noteOptional: "Sollen die Moderatoren noch etwas wissen? (optional)", send: "Meldung senden",
    cancel: "Abbrechen", done: "Danke: Die Moderatoren sehen es sich an.", need: "Bitte kurz begründen." },
  fr: { title: "Signaler ce commentaire", spam: "Spam ou publicité", abusive: "Injurieux ou haineux",
    off_topic: "Hors sujet", illegal: "Contenu illicite", note: "Qu’est-ce qui est illicite, et pourquoi ?",
    noteOptional: "Autre chose à dire aux modérateurs ? (facultatif)", send: "Envoyer le signalement",
    cancel: "Annuler", done: "Merci : les modérateurs vont l’examiner.", need: "Expliquez brièvement, s’il vous plaît." },
  es: { title: "Denunciar este comentario", spam: "Spam o publicidad", abusive: "Ofensivo o de odio",
    off_topic: "Fuera de tema", illegal: "Contenido ilegal", note: "¿Qué es ilegal y por qué?",
    noteOptional: "¿Algo más para los moderadores? (opcional)", send: "Enviar denuncia",
    cancel: "Cancelar", done: "Gracias: los moderadores lo revisarán.", need: "Explíquelo brevemente, por favor." },
  ru: { title: "Пожаловаться на комментарий", spam: "Спам или реклама", abusive: "Оскорбления или ненависть",
    off_topic: "Не по теме", illegal: "Незаконное содержание", note: "Что незаконно и почему?",
    noteOptional: "Что-то ещё для модераторов? (необязательно)", send: "Отправить жалобу",
    cancel: "Отмена", done: "Спасибо: модераторы посмотрят.", need: "Пожалуйста, кратко объясните." },
  ar: { title: "الإبلاغ عن هذا التعليق", spam: "رسائل مزعجة أو إعلان", abusive: "مسيء أو يحض على الكراهية",
    off_topic: "خارج الموضوع", illegal: "محتوى غير قانوني", note: "ما غير القانوني، ولماذا؟",
    noteOptional: "هل من شيء آخر للمشرفين؟ (اختياري)", send: "إرسال البلاغ",
    cancel: "إلغاء", done: "شكرًا: سيطّلع المشرفون عليه.", need: "يرجى التوضيح باختصار." },
};
const REASONS = ["spam", "abusive", "off_topic", "illegal"];
const MAX_NOTE = 500;
let formCount = 0;

/* Open the form under the comment's actions (again: focus the open one). `options`: api,
 * element, errorText (the widget's), language, comment (its public view), button (the
 * comment's "Report" button, expanded while the form is open). */
export default function openReport({ api, element, errorText, language, comment, button }) {
  const open = button.parentNode.nextElementSibling;
  if (open && open.dataset.report) return open.querySelector("input").focus();
  const words = { ...STRINGS.en, ...STRINGS[language] };
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
