/* widget-server: editing and deleting one's own comment, in place, with its edit token (docs/widget.md).
 * An ES module that /widget.js imports on the first press of "Edit" or "Delete" (only authors within
 * the edit window see them), so no one else downloads it. It receives everything from the widget
 * (no globals); reader text only ever goes in as text, and the only HTML is the server's answer. */
"use strict";

let api, element, actionButton, errorText, strings, editTokens, saveEditTokens, newId, commentBox,
  rerenderComment, setCount, announce;

export default function edits(widget) {
  ({ api, element, actionButton, errorText, strings, editTokens, saveEditTokens, newId, commentBox,
    rerenderComment, setCount, announce } = widget);
  return { edit, delete: askDelete, "confirm-delete": confirmDelete, "cancel-delete": cancelDelete };
}

async function edit(thread, record, editButton) {
  const { token } = editTokens[record.comment.id];
  const errorLine = element("p", { class: "er", role: "alert" });
  let source;
  try {
    source = (await api("GET", "/comments/" + record.comment.id, { editToken: token })).data.text;
  } catch (error) {
    errorLine.textContent = errorText(error);
    return editButton.parentNode.after(errorLine);
  }
  const id = newId("ws-e");
  const textarea = element("textarea", { id, rows: 4, part: "textarea", maxlength: thread.maxLength });
  textarea.value = source;
  const form = element("form", { novalidate: true, part: "form" },
    element("div", null, element("label", { for: id, text: strings.edit + " #" + record.comment.number }), textarea),
    errorLine,
    element("div", { class: "bar" },
      actionButton("cancel-edit", strings.cancel, "b"), element("button", { class: "b p", text: strings.save })));
  const replaced = [commentBox(record, ".bd"), commentBox(record, ".ac")];
  for (const part of replaced) part.hidden = true;
  replaced[0].after(form);
  textarea.focus();
  form.addEventListener("click", (event) => {
    if (!event.target.closest("[data-action=cancel-edit]")) return;
    event.stopPropagation();
    form.remove();
    for (const part of replaced) part.hidden = false;
    editButton.focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const { data } = await api("PATCH", "/comments/" + record.comment.id,
        { body: { text: textarea.value }, editToken: token });
      record.comment = { ...record.comment, ...data.comment, state: record.comment.state };
      rerenderComment(thread, record).focus();
    } catch (error) { errorLine.textContent = `${strings.failed} ${errorText(error)}`; }
  });
}
function askDelete(thread, record, deleteButton) {
  const actions = deleteButton.parentNode;
  const question = element("div", { class: "ac", role: "group", "aria-label": strings.delQ },
    element("span", { text: strings.delQ }),
    actionButton("confirm-delete", strings.delYes), actionButton("cancel-delete", strings.cancel));
  actions.hidden = true;
  actions.after(question);
  question.children[1].focus();
}
function cancelDelete(thread, record, button) {
  const question = button.parentNode;
  const actions = question.previousElementSibling;
  question.remove();
  actions.hidden = false;
  actions.querySelector("[data-action=delete]").focus();
}
async function confirmDelete(thread, record, button) {
  const question = button.parentNode;
  const { comment, item } = record;
  try {
    await api("DELETE", "/comments/" + comment.id, { editToken: editTokens[comment.id].token });
  } catch (error) {
    question.firstChild.textContent = errorText(error);
    return;
  }
  delete editTokens[comment.id];
  saveEditTokens();
  if (comment.state === "published") setCount(thread, thread.total - 1);
  let next;
  if (item.querySelector(":scope>ol>li")) { // it has replies: it stays as a tombstone
    record.comment = { ...comment, state: "deleted", html: "", author: {} };
    next = rerenderComment(thread, record);
  } else {
    next = item.nextElementSibling || item.parentNode.closest("li") || thread.top.querySelector("textarea");
    item.remove();
    thread.records.delete(comment.id);
    thread.empty.hidden = thread.list.children.length > 0;
  }
  announce(thread, strings.deleted);
  if (next) next.focus();
}
