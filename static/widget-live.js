/* widget-server live updates: an ES module that /widget.js imports once a thread has
 * rendered. It listens to GET /api/v1/events (Server-Sent Events) for the thread's page and
 * keeps the thread true without moving what the reader is reading: new comments wait behind
 * a "N new comments — show" button under the comments, said in the widget's polite live
 * region (screen readers hear it without losing their place); edits and deletions
 * apply in place; the counts follow. When streams are refused (503) or cut, it polls the
 * thread with backoff and tries a stream again. Reader text only through the widget's
 * renderer (the server's sanitized html) and textContent. docs/live.md. */
"use strict";

// English; every other language is the `live` table of static/i18n/LANG.json, fetched from the
// server (`origin`) when this module starts. `more` has the Intl.PluralRules forms; {n} is filled in.
const EN = { more: { one: "{n} new comment — show", other: "{n} new comments — show" }, shown: "New comments shown." };
const POLL_FIRST = 15e3, POLL_MOST = 3e5; // backoff while streams are refused or cut: 15 s, doubling, at most 5 min
const CSS = ".nw{position:sticky;bottom:8px;display:flex;justify-content:center;margin-top:var(--g)}.nw:empty{display:none}";
let styleSheet;

export default function live({ thread, page, origin, language, api, element, insertComment, rerenderComment, setCount,
  setReactions }) {
  let texts = EN;
  if (language !== "en") {
    fetch(`${origin}/widget-i18n/live/${language}.json`, { credentials: "omit" })
      .then((response) => response.ok && response.json()).then((table) => { texts = { ...EN, ...table }; }, () => {});
  }
  const plural = new Intl.PluralRules(language), number = new Intl.NumberFormat(language);
  // comment id -> the comment, until the reader asks to see it; the widget takes out what it
  // renders (one's own comment, heard before its answer came, and perhaps deleted by now)
  const waiting = thread.waiting = new Map();
  const region = element("div", { class: "nw", part: "new-comments" });
  thread.list.after(region); // under the comments, not under the page's reactions
  if (!styleSheet) (styleSheet = new CSSStyleSheet()).replaceSync(CSS);
  thread.shadow.adoptedStyleSheets = [...thread.shadow.adoptedStyleSheets, styleSheet];
  let lastId = "", delay = POLL_FIRST, source, count, countTimer;

  function showWaiting() {
    // "No comments yet" is not said beside "1 new comment"
    thread.empty.hidden = waiting.size > 0 || thread.list.children.length > 0;
    if (!waiting.size) return region.replaceChildren();
    const text = (texts.more[plural.select(waiting.size)] || texts.more.other).replace("{n}", number.format(waiting.size));
    const button = region.querySelector("button") || element("button", { type: "button", class: "b", part: "button show-new" });
    if (button.textContent === text) return;
    button.textContent = text;
    button.onclick = reveal;
    region.replaceChildren(button);
    thread.live.textContent = text; // the widget's polite live region
  }
  function reveal() {
    let first;
    for (const comment of waiting.values()) {
      const parent = comment.parent_id && thread.records.get(comment.parent_id);
      if (thread.records.has(comment.id) || (comment.parent_id && !parent)) continue; // its parent is on a page not loaded
      const item = insertComment(thread, comment, parent);
      first = first || item;
    }
    waiting.clear();
    region.replaceChildren();
    thread.live.textContent = texts.shown;
    if (first) first.focus();
  }
  function arrived(comment) {
    if (thread.records.has(comment.id) || comment.state !== "published") return;
    waiting.set(comment.id, comment);
    setTimeout(showWaiting, 1e3); // a comment posted here may be heard before its own answer came
  }
  function changed(comment) {
    const record = thread.records.get(comment.id);
    if (record) {
      const next = { ...record.comment, ...comment };
      if (JSON.stringify(next) === JSON.stringify(record.comment)) return; // shown already: a change made here
      record.comment = next;
      // One's own comment (its edit and delete buttons are here) is changed by this page itself,
      // which may not have had its answer yet; an open editor is left alone too.
      if (record.item.querySelector(":scope>div textarea, :scope>div [data-action=delete]")) return;
      const active = thread.shadow.activeElement;
      const item = rerenderComment(thread, record);
      if (active && record.item !== item && !active.isConnected) item.focus(); // focus stays where it was
    } else if (waiting.has(comment.id)) {
      if (comment.state === "deleted") waiting.delete(comment.id);
      else waiting.set(comment.id, comment);
      showWaiting();
    }
  }
  function onComment(event) {
    lastId = event.lastEventId || lastId;
    const { change, comment } = JSON.parse(event.data);
    if (change === "created" || (change === "approved" && !thread.records.has(comment.id))) arrived(comment);
    else changed(comment);
  }
  function onThread(event) {
    lastId = event.lastEventId || lastId;
    const { change, thread: info } = JSON.parse(event.data);
    if (change === "resync") refresh().catch(() => {}); // back after the log's week: read the page again
    if (change === "count") {
      // The server's count wins, a moment later: this page's own post or deletion may still be
      // counting itself (the event can come before the answer).
      count = info.comment_count;
      clearTimeout(countTimer);
      countTimer = setTimeout(function apply() {
        if (thread.posting) countTimer = setTimeout(apply, 1e3);
        else setCount(thread, count);
      }, 1e3);
    }
  }

  function connect() {
    const query = new URLSearchParams({ url: page });
    if (lastId) query.set("last_event_id", lastId);
    source = new EventSource(origin + "/api/v1/events?" + query);
    source.addEventListener("comment", onComment);
    source.addEventListener("thread", onThread);
    source.addEventListener("reactions", (event) => { // issue 19: a reaction added or taken back
      lastId = event.lastEventId || lastId;
      const { comment_id: id, reactions } = JSON.parse(event.data);
      setReactions(id, reactions);
    });
    source.onopen = () => { delay = POLL_FIRST; };
    source.onerror = () => { // a cut stream reconnects by itself; a refused or failed one is closed
      if (source.readyState === EventSource.CLOSED) setTimeout(poll, delay);
    };
  }
  // The thread's first page, its comments compared with what is shown: new ones wait behind
  // "N new comments", changed ones are changed in place.
  async function refresh() {
    const { data } = await api("GET", "/comments?" + new URLSearchParams({ url: page, sort: thread.sort }));
    setCount(thread, data.thread.comment_count);
    const walk = (comments) => comments.forEach(({ replies, ...comment }) => {
      if (thread.records.has(comment.id)) changed(comment);
      else arrived(comment);
      walk(replies || []);
    });
    walk(data.comments);
  }
  // While streams are refused: the first page now and then.
  async function poll() {
    delay = Math.min(delay * 2, POLL_MOST);
    await refresh().catch(() => {}); // offline: the next try is later
    connect();
  }
  connect();
}
