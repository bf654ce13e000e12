/* widget-server reaction picker (issue 19): the row of every emoji a reader may react with, opened
 * by the "Add a reaction" button of the page or of a comment. An ES module that /widget.js imports
 * on the first press, so readers who never open it never download it. It receives everything from
 * the widget (no globals): its element builder and strings, the button, the server's emoji, which
 * of them this reader gave, and what to do with a choice (the widget sends it and draws the bar
 * again, which removes this picker). Each emoji is a toggle button whose name is the emoji itself,
 * which screen readers speak in the reader's own language. docs/widget.md, "Reactions". */
"use strict";

const CSS = ".pk{display:inline-flex;flex-wrap:wrap;gap:2px;padding:2px;border:1px solid var(--bd);" +
  "border-radius:99px;background:var(--sf)}.pk button{border-color:transparent}";
let sheet;

export default function picker({ element, strings, button, emoji, pressed, choose }) {
  const open = button.nextElementSibling;
  if (open && open.classList.contains("pk")) return close(open, button); // pressed again: closed
  const root = button.getRootNode();
  if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(CSS);
  if (!root.adoptedStyleSheets.includes(sheet)) root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  const row = element("span", { class: "pk", role: "group", "aria-label": strings.react, part: "reaction-picker" },
    ...emoji.map((one) => element("button", { type: "button", "data-emoji": one, "aria-pressed": String(pressed(one)),
      text: one })));
  row.addEventListener("click", (event) => {
    const chosen = event.target.closest("[data-emoji]");
    event.stopPropagation(); // the widget's own listener would take it for a reaction button
    if (chosen) choose(chosen.dataset.emoji);
  });
  row.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close(row, button);
  });
  button.after(row);
  button.setAttribute("aria-expanded", "true");
  row.firstChild.focus();
}

function close(row, button) {
  row.remove();
  button.setAttribute("aria-expanded", "false");
  button.focus();
}
