/* widget-server comments widget. Embedding, options, theming: docs/widget.md.
 * One IIFE, no globals, no build step. Renders into Shadow DOM with a
 * constructable stylesheet (works under a strict CSP); reader text goes in with
 * textContent, only the server's sanitized `html` field with innerHTML.
 * In order: strings, page options, storage, account hooks, HTTP, DOM helpers, styles,
 * the thread, one comment, one's own comments, the post form, comment counts, start-up. */
(() => {
  "use strict";
  const script = document.currentScript; // null later: read it now
  if (!script || !script.src) return;
  const options = script.dataset;
  const ORIGIN = new URL(options.server || script.src, location).origin; // data-server: a copy served from elsewhere
  const API = ORIGIN + "/api/v1";
  const LOG = "[widget-server]";
  const STORAGE_PREFIX = "widget-server:";

  // ---- strings: English here, the fallback; every other language is one file on the server,
  //      /widget-i18n/LANG.json (from static/i18n/), fetched in parallel with the thread.
  //      {n}/{t} are filled in; `count` has the Intl.PluralRules forms; `dir` is "rtl" or absent.
  //      The keys are the language files' own: they stay as they are.
  const EN = {
    title: "Discussion", count: { one: "{n} comment", other: "{n} comments" },
    sortBy: "Sort comments", oldest: "Oldest", newest: "Newest", top: "Top",
    empty: "No comments yet. Start the discussion!",
    text: "Your comment",
    name: "Name", email: "E-mail", site: "Website", opt: "optional", comma: ", ", notShown: "never shown",
    post: "Post comment", preview: "Preview",
    cancel: "Cancel", reply: "Reply", replyTo: "Reply to #{n}", like: "Like",
    edit: "Edit", del: "Delete", report: "Report", save: "Save", delQ: "Delete this comment?", delYes: "Yes, delete",
    anon: "Anonymous", deleted: "This comment was deleted.", edited: "edited",
    pending: "Awaiting moderation: only you can see this comment.",
    held: "Thank you! Your comment will appear once it is approved.",
    posted: "Your comment #{n} was posted.", more: "Show more comments",
    loading: "Loading comments…", loadErr: "The comments could not be loaded.", retry: "Try again",
    net: "The comment server could not be reached.",
    failed: "Not sent:", rate: "Too many attempts. Please try again {t}.", need: "Please write something first.",
    closed: "This discussion is closed for new comments.",
    signIn: "Sign in", acct: "Account", as: "Signed in as", anon2: "Post anonymously", notify: "Notify me of replies",
    ver: "Verified", must: "Sign in to comment.", off: "Comments are not available on this page.",
    mailed: "A confirmation mail is on its way: open its link to get replies.",
    reactions: "Reactions", react: "Add a reaction",
    moreReplies: { one: "Show {n} more reply", other: "Show {n} more replies" },
    queued: "You are offline: your comment will be sent when you are back online.",
  };
  // The languages with a file in static/i18n (tests/test_i18n_files.py keeps this true), fetched from
  // ORIGIN: a copy of this script served from a CDN or the site itself finds them too. data-lang, then
  // the page's <html lang>, then the browser's; by primary subtag (pt-PT gets pt-BR, zh-TW zh).
  const LANGUAGES = "ar cs de el en es fa fr he hi hu id it ja ko nl pl pt-BR ro ru sv th tr uk vi zh".split(" ");
  const wanted = [options.lang, document.documentElement.lang, ...navigator.languages || [navigator.language]]
    .map((tag) => LANGUAGES.find((code) => code.split("-")[0] == String(tag).toLowerCase().split("-")[0]))
    .find(Boolean) || "en";
  let language, strings, numberFormat, pluralRules, relativeTimeFormat, dateTimeFormat;
  function useLanguage(code, table) {
    language = code;
    strings = { ...EN, ...table }; // a key the file lacks stays English
    numberFormat = new Intl.NumberFormat(code);
    pluralRules = new Intl.PluralRules(code);
    relativeTimeFormat = new Intl.RelativeTimeFormat(code, { numeric: "auto" });
    dateTimeFormat = new Intl.DateTimeFormat(code, { dateStyle: "long", timeStyle: "short" });
  }
  useLanguage("en");
  const fetchStrings = (name) => fetch(`${ORIGIN}/widget-i18n/${name}.json`, { credentials: "omit" })
    .then((response) => response.ok ? response.json() : Promise.reject(response.status));
  // Asked for once, with the first request for comments or counts, and awaited with it: nothing
  // is rendered before both are in. Never rejects: a language file that fails leaves English.
  let stringsLoaded;
  const loadStrings = () => stringsLoaded || (stringsLoaded = wanted === "en" ? Promise.resolve() : fetchStrings(wanted)
    .then((table) => useLanguage(wanted, table)).catch((error) => {
      useLanguage("en");
      console.warn(LOG, `no "${wanted}" strings (${error}), English instead`);
    }));
  const fill = (key, value) => strings[key].replace(/\{\w\}/, value);
  const plural = (forms, count) => (forms[pluralRules.select(count)] || forms.other).replace("{n}", numberFormat.format(count));
  const countText = (count) => plural(strings.count, count);
  const UNITS = [["year", 31536e3], ["month", 2592e3], ["day", 86400], ["hour", 3600], ["minute", 60]];
  function timeAgo(date) {
    const seconds = (date - Date.now()) / 1e3;
    for (const [unit, size] of UNITS) {
      if (Math.abs(seconds) >= size) return relativeTimeFormat.format(Math.round(seconds / size), unit);
    }
    return relativeTimeFormat.format(0, "second");
  }

  // ---- page options ----------------------------------------------------------------------
  const canonical = document.querySelector("link[rel=canonical]");
  const HERE = location.href.split("#")[0];
  const PAGE = new URL(options.url || (canonical && canonical.href) || HERE, document.baseURI).href; // data-url may be relative
  const TITLE = options.title || document.title;
  const THEME = ["dark", "auto"].includes(options.theme) ? options.theme : "light";
  const SORTS = ["oldest", "newest", "top"];

  // ---- storage (may be blocked: every access guarded) ------------------------------------
  function load(key, fallback) {
    try { return JSON.parse(localStorage.getItem(STORAGE_PREFIX + key)) || fallback; } catch { return fallback; }
  }
  function store(key, value) {
    try { localStorage.setItem(STORAGE_PREFIX + key, JSON.stringify(value)); } catch { /* private mode */ }
  }
  // Edit tokens by comment id: {token, editableUntil (ms), page (its URL), pending (held for moderation)}.
  // A held comment's token is kept 30 days past its edit window: later visits fetch the comment with it.
  const PENDING_KEPT = 2592e6;
  const editTokens = load("edit-tokens", {});
  // Widgets before December 2026 kept [token, editableUntil, page, pending 0/1] under "tokens": moved
  // here once. A new key, so that an older copy still in a browser's cache never reads a record.
  const older = load("tokens", null);
  if (older) {
    for (const [id, stored] of Object.entries(older)) {
      const [token, editableUntil, page, pending] = Array.isArray(stored) ? stored : [];
      if (token && !editTokens[id]) editTokens[id] = { token, editableUntil, page, pending: !!pending };
    }
    try { localStorage.removeItem(STORAGE_PREFIX + "tokens"); } catch { /* blocked */ }
  }
  for (const id in editTokens) {
    const { editableUntil, pending } = editTokens[id];
    const keptUntil = editableUntil + (pending ? PENDING_KEPT : 0);
    if (!(Date.now() <= keptUntil)) delete editTokens[id]; // past, or not a time at all
  }
  const saveEditTokens = () => store("edit-tokens", editTokens);
  saveEditTokens();
  // Reactions this browser gave, "<comment id or p>:<emoji>"; likes given before reactions were 👍.
  const reacted = new Set(load("reacted", []).concat(load("liked", []).map((id) => id + ":👍")));
  const drop = (key) => { try { localStorage.removeItem(STORAGE_PREFIX + key); } catch { /* blocked */ } };
  const canEdit = (id) => editTokens[id] && Date.now() < editTokens[id].editableUntil;

  // ---- account hooks (docs/accounts.md): the session pair lives in localStorage; its panels
  //      and renewal are in /widget-account.js, imported only when needed (the size budget)
  let session = load("session", null), serverConfig = {}, accountModule;
  const sessionListeners = new Set(); // each post form's update, run when the session changes
  function setSession(value) {
    store("session", session = value);
    for (const update of sessionListeners) update();
  }
  const loadAccount = () => accountModule || (accountModule = Promise.all([
    import(ORIGIN + "/widget-account.js"),
    language !== "en" && fetchStrings("account/" + language).catch(() => null), // its strings, alongside
  ]).then(([module, accountStrings]) => module.default({
    api, element, errorText, widgetStrings: strings, accountStrings, language, getSession: () => session, setSession,
  })).catch(() => {
    accountModule = null;
    throw { unreachable: true };
  }));
  let editModule, powModule; // proof of work: /widget-pow.js, when a reader starts writing (docs/moderation.md)
  // a module that could not be fetched (offline) is fetched again next time, and counts as the network's failure
  const pow = () => powModule ||= import(ORIGIN + "/widget-pow.js").then((module) => module.default(api), () => {
    powModule = 0;
    throw { unreachable: true };
  });
  const renewSession = () => loadAccount().then((account) => account.refresh()); // rejects, signed out, if it cannot
  const sessionEndsSoon = () => Date.now() > Date.parse(session.token_expires_at) - 6e4; // renew a minute ahead
  // host-site sign-in (in /widget-account.js): data-sso, or widgetServer.sso(token) (null: signed out)
  const sso = (token) => loadAccount().then((account) => account.sso(token), () => {});
  window.widgetServer = { sso };
  if (options.sso) sso(options.sso);

  // ---- HTTP ------------------------------------------------------------------------------
  let formToken = null, refusalTold;
  const REFUSED = "origin_not_allowed"; // this page's site is not in the server's WIDGET_ALLOWED_ORIGINS
  async function api(method, path, { body, editToken, bearer, key } = {}) {
    const headers = {};
    if (key) headers["Idempotency-Key"] = key;
    if (body) headers["Content-Type"] = "application/json";
    if (editToken) headers["X-Edit-Token"] = editToken;
    if (bearer) headers.Authorization = "Bearer " + bearer;
    let response;
    try {
      // no-cache: always revalidate (a 304 when unchanged), never show a stale thread after posting
      response = await fetch(API + path, {
        method, headers, body: body && JSON.stringify(body), credentials: "omit", cache: "no-cache" });
    } catch {
      throw { unreachable: true };
    }
    formToken = response.headers.get("X-Form-Token") || formToken;
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const error = { ...(data && data.error), status: response.status, retryAfter: response.headers.get("Retry-After") };
      if (error.code === REFUSED && !refusalTold) { // the server's words name the origin to add: for the site owner
        refusalTold = true;
        console.error("widget-server: " + error.message);
      }
      await loadErrors();
      throw error;
    }
    return { data, status: response.status };
  }
  // Other languages word errors from their codes: /widget-errors.js, imported on the first error.
  let wordError, errorsLoaded;
  const loadErrors = () => wanted == "en" || (errorsLoaded ||= import(ORIGIN + "/widget-errors.js")
    .then((module) => module.default(wanted)).then((word) => { wordError = word; }, () => { errorsLoaded = 0; }));
  const FIELD_LABELS = { text: "text", author: "name", email: "email", website: "site" };
  function errorText(error) { // the server's own words, per field when it names fields
    if (error.unreachable) return strings.net;
    if (error.status === 429) {
      const seconds = +error.retryAfter || 60;
      return fill("rate", seconds > 90
        ? relativeTimeFormat.format(Math.ceil(seconds / 60), "minute")
        : relativeTimeFormat.format(Math.ceil(seconds), "second"));
    }
    if (error.code === "thread_locked") return strings.closed;
    if (error.code === REFUSED) return strings.off; // the reader gets a neutral line; the console has the reason
    const label = (field) => strings[FIELD_LABELS[field]] || (error.labels || {})[field]; // labels: the account panels'
    if (wordError && error.code) return wordError(error, label);
    const fields = Object.entries(error.fields || {})
      .map(([field, problem]) => (label(field) || field) + ": " + problem).join("; ");
    const message = String(fields || error.message || error.code || error.status);
    return message[0].toUpperCase() + message.slice(1) + (/[.!?]$/.test(message) ? "" : ".");
  }

  // ---- DOM helpers -----------------------------------------------------------------------
  function element(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const name in attributes) {
      const value = attributes[name];
      if (value == null || value === false) continue;
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) if (child != null && child !== false) node.append(child); // strings become text
    return node;
  }
  const actionButton = (action, text, className, attributes) =>
    element("button", { type: "button", "data-action": action, class: className, text, ...attributes });
  function svg(tag, attributes, ...children) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const name in attributes) node.setAttribute(name, attributes[name]);
    node.append(...children);
    return node;
  }
  const verifiedMark = (via) => element("span", { // via: where the identity comes from ("via Mastodon, @ann@...")
    class: "vf", role: "img", "aria-label": via = strings.ver + (via ? " " + via : ""), title: via, part: "verified", text: "✓" });
  let lastId = 0;
  const newId = (prefix) => prefix + ++lastId;
  const identicons = new Map();
  // A 5x5 mirrored identicon from the avatar hash, drawn here: no request is made.
  function identicon(hash) {
    if (!/^[0-9a-f]{12,}$/i.test(hash)) hash = "";
    if (!identicons.has(hash)) {
      const bits = parseInt(hash.slice(0, 8), 16);
      const hue = parseInt(hash.slice(8, 12), 16) % 360;
      let path = "M0 0";
      for (let cell = 0; hash && cell < 15; cell++) {
        const x = cell % 3, y = (cell / 3) | 0;
        if (bits >> cell & 1) path += `M${x + .5} ${y + .5}h1v1h-1zM${4.5 - x} ${y + .5}h1v1h-1z`;
      }
      identicons.set(hash, svg("svg", { viewBox: "0 0 6 6", "aria-hidden": "true", class: "av", part: "avatar" },
        svg("rect", { width: 6, height: 6, rx: 3, fill: hash ? `hsl(${hue} 60% 91%)` : "#d0d5db" }),
        svg("path", { d: path, fill: `hsl(${hue} 55% 36%)` })));
    }
    return identicons.get(hash).cloneNode(true);
  }

  // ---- styles: one constructable sheet, so no inline style is ever needed ----------------
  // Class names: ws widget · hd header · ct count · so sort · c comment · del deleted · hl highlighted · mt meta line · av avatar · au author · vf verified · pd pending · bd body · ac actions · r replies · em empty · mo more · b button · p primary · bar buttons · who name fields · ck checkbox · pv preview · er error · nt notice · sr screen readers only · hp honeypot.
  const DARK = "--bg:var(--widget-bg,#15181c);--fg:var(--widget-text,#e7e9ec);--mu:var(--widget-muted,#a3acb6);" +
    "--bd:var(--widget-border,#3d4550);--sf:var(--widget-surface,#1f242a);--ac:var(--widget-accent,#8cb4ff);" +
    "--on:var(--widget-accent-text,#0c1424);--hl:var(--widget-highlight,#3b3418);--er:var(--widget-danger,#ff9b8f);" +
    "--ok:var(--widget-success,#7ddc9a);color-scheme:dark";
  const CSS = `
:host{display:block}
.ws{all:initial;display:block;position:relative;box-sizing:border-box;text-align:start;
font:var(--widget-font-size,16px)/1.6 var(--widget-font,system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif);
--bg:var(--widget-bg,#fff);--fg:var(--widget-text,#1f2328);--mu:var(--widget-muted,#57606a);--bd:var(--widget-border,#d0d7de);
--sf:var(--widget-surface,#f3f5f7);--ac:var(--widget-accent,#1a56db);--on:var(--widget-accent-text,#fff);
--hl:var(--widget-highlight,#fff5cc);--er:var(--widget-danger,#b42318);--ok:var(--widget-success,#116329);
--r:var(--widget-radius,10px);--g:var(--widget-gap,16px);
color:var(--fg);background:var(--bg);padding:var(--widget-padding,var(--g));color-scheme:light}
.dark{${DARK}}
@media (prefers-color-scheme:dark){.auto{${DARK}}}
*,::before,::after{box-sizing:inherit}
[hidden]{display:none!important}
h2{font-size:1.35em;line-height:1.3;margin:0}
button,input,textarea{font:inherit;color:inherit}
a{color:var(--ac);text-underline-offset:.15em}
:focus-visible{outline:2px solid var(--ac);outline-offset:2px}
.sr,.hp{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
.hd{display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;justify-content:space-between;padding-bottom:12px;margin-bottom:var(--g);border-bottom:1px solid var(--bd)}
.ct{color:var(--mu);font-size:.65em;margin-inline-start:10px;font-weight:400}
.so{display:inline-flex;border:1px solid var(--bd);border-radius:99px;padding:2px}
.so button{border:0;background:none;border-radius:99px;padding:3px 12px;min-height:30px;cursor:pointer;color:var(--mu);font-size:.875em}
.so [aria-pressed=true]{background:var(--sf);color:var(--fg);font-weight:600}
form{display:grid;gap:10px;margin:0 0 24px}
label{display:block;font-size:.875em;font-weight:600;margin-bottom:4px}
small{font-weight:400;color:var(--mu)}
textarea,input{display:block;width:100%;border:1px solid var(--bd);border-radius:8px;background:var(--bg);padding:9px 12px;line-height:1.5}
textarea{min-height:6.5em;resize:vertical}
[aria-invalid=true]{border-color:var(--er)}
.who{display:grid;gap:10px;grid-template-columns:repeat(auto-fit,minmax(150px,1fr))}.who>div{display:flex;flex-direction:column;justify-content:flex-end}
.bar{display:flex;flex-wrap:wrap;justify-content:flex-end;gap:8px}
.b{border:1px solid var(--bd);background:var(--bg);border-radius:99px;padding:6px 16px;min-height:36px;cursor:pointer;font-size:.9em;font-weight:600}
.b:hover,.ac button:hover{background:var(--sf);color:var(--fg)}
.b.p{background:var(--ac);border-color:var(--ac);color:var(--on)}
[aria-disabled=true]{opacity:.7;cursor:progress}
.pv{border:1px dashed var(--bd);border-radius:var(--r);padding:4px 14px}
.er{margin:0;color:var(--er);font-weight:600;font-size:.9em}
.er:empty,.nt:empty{display:none}
.nt{margin:6px 0 0;padding:10px 14px;border-radius:var(--r);background:var(--sf);border-inline-start:4px solid var(--ok)}
ol{list-style:none;margin:0;padding:0}
.c{margin:0 0 6px;border-radius:var(--r);scroll-margin:80px}
.c>div{padding:10px 0;border-radius:var(--r);transition:.6s}
.hl>div{background:var(--hl);box-shadow:0 0 0 10px var(--hl)}
.c:focus-visible{outline-offset:8px}
.mt{display:flex;flex-wrap:wrap;align-items:center;gap:2px 10px;font-size:.875em;color:var(--mu)}
.av{width:36px;height:36px;flex:none}
.au{font-weight:700;color:var(--fg);font-size:1.07em}
.mt a:not(.au){color:var(--mu);text-decoration:none}
.bd,.c form{margin:4px 0 0;margin-inline-start:46px;overflow-wrap:anywhere}
.bd>*{margin:.45em 0}
.bd ol,.bd ul{padding-inline-start:1.5em;list-style:revert}
.bd pre,.bd code{font:.9em ui-monospace,Menlo,Consolas,monospace;background:var(--sf);padding:.1em .3em;border-radius:4px}
.bd pre{overflow-x:auto;padding:8px 12px}
.bd blockquote{border-inline-start:3px solid var(--bd);padding-inline-start:12px;color:var(--mu)}
.del>div>.bd{font-style:italic;color:var(--mu)}
.ac{display:flex;flex-wrap:wrap;align-items:center;gap:4px;margin:4px 0 0;margin-inline-start:38px;font-size:.85em;color:var(--mu)}
.ac button,.mt button{border:0;background:none;border-radius:99px;padding:2px 10px;min-height:32px;cursor:pointer;font-weight:600;display:inline-flex;align-items:center;gap:5px}
.rx{display:inline-flex;flex-wrap:wrap;gap:4px}
.rx button{border:1px solid var(--bd);background:var(--bg);border-radius:99px;padding:0 9px;min-height:32px;cursor:pointer;font-weight:400;color:var(--fg)}
.rx [aria-pressed=true]{border-color:var(--ac);background:var(--sf);font-weight:600}
.ws>.rx{display:flex;margin-top:var(--g)}
.pd{font-size:.8em;font-weight:600;border-radius:99px;padding:1px 10px;background:var(--hl);color:var(--fg)}
.r{margin-inline-start:22px;padding-inline-start:14px;border-inline-start:2px solid var(--bd)}
.r .r .r .r{margin-inline-start:0;padding-inline-start:0;border:0}
@media (max-width:560px){.r .r{margin-inline-start:0;padding-inline-start:0;border:0}.r{margin-inline-start:6px;padding-inline-start:8px}
.bd,.c form{margin-inline-start:0}.who{grid-template-columns:1fr}.ac{margin-inline-start:-10px}.av{width:30px;height:30px}}
.em{text-align:center;padding:28px 16px;border:1px dashed var(--bd);border-radius:var(--r);color:var(--mu);margin:0}
.mo{display:block;margin:var(--g) auto 0}
.mr{margin:2px 0 8px;margin-inline-start:22px;min-height:32px}
.mt b{color:var(--fg)}
.mt button{color:var(--ac);margin-inline-start:-10px}
.vf{padding:0 .4em;border-radius:50%;background:var(--ac);color:var(--on);font-size:.75em}
.ck{display:flex;align-items:center;gap:8px;margin:0;font-weight:400}
.ck input{width:1.15em;height:1.15em;margin:0;accent-color:var(--ac)}
`;
  let styleSheet;

  // ---- the thread: its state and elements are one object, `thread`, passed to every part --
  async function mount(host) {
    if (host.shadowRoot) return; // a second copy of the script was quicker
    const shadow = host.attachShadow({ mode: "open" });
    shadow.append(element("slot")); // a thread the server drew in the host shows until ours is drawn
    if (!styleSheet) (styleSheet = new CSSStyleSheet()).replaceSync(CSS);
    shadow.adoptedStyleSheets = [styleSheet];
    // Relative times ("5 minutes ago") stay true while the page stays open.
    setInterval(() => {
      for (const time of shadow.querySelectorAll("time")) time.textContent = timeAgo(new Date(time.dateTime));
    }, 6e4);
    const thread = {
      shadow,
      records: new Map(), // comment id -> {comment, item (its <li>), depth}
      replyForms: new Map(), // comment id -> its reply form, kept while the page lives so a draft survives Cancel
      sort: SORTS.includes(options.sort) ? options.sort : "oldest",
      cursor: null, total: 0, locked: false, posting: false, maxLength: 1e4,
    };
    // The server's fragment carries its first page (docs/server-rendering.md): taken over, not asked again.
    const seed = host.querySelector("[data-ws-seed]");
    const firstPage = seed && seed.dataset.wsSeed == thread.sort
      ? Promise.all([{ data: JSON.parse(seed.text) }, loadStrings()]) : requestPage(thread);
    firstPage.catch(() => {}); // handled by start(); no "unhandled rejection" while the strings load
    await loadStrings();

    thread.count = element("span", { class: "ct" });
    thread.sortGroup = element("div", { class: "so", role: "group", "aria-label": strings.sortBy, part: "sort" },
      ...SORTS.map((sort) => actionButton("sort", strings[sort], null,
        { "data-sort": sort, "aria-pressed": String(sort === thread.sort) })));
    thread.list = element("ol", { part: "list" });
    thread.empty = element("p", { class: "em", part: "empty", text: strings.empty, hidden: true });
    thread.status = element("p", { role: "status" });
    thread.more = actionButton("more", strings.more, "b mo", { part: "button load-more", hidden: true });
    thread.live = element("div", { class: "sr", "aria-live": "polite" });
    thread.top = element("div"); // the post form, or the notice that the thread is closed
    thread.reactions = element("span"); // the page's own reactions, drawn with the first page, after the
    // list: above it they would push down a thread the server drew (docs/server-rendering.md)
    host.replaceChildren(); // in the same task as the first page is drawn: no flash, no id twice
    shadow.replaceChildren(thread.root = element("section",
      { class: "ws " + THEME, lang: language, dir: strings.dir || "ltr", part: "root", "aria-labelledby": "ws-t" },
      element("div", { class: "hd", part: "header" },
        element("h2", { id: "ws-t", part: "title" }, strings.title, " ", thread.count), thread.sortGroup),
      thread.top, thread.status, thread.list, thread.empty, thread.more, thread.reactions, thread.live));
    shadow.addEventListener("click", (event) => onThreadClick(thread, event));
    addEventListener("hashchange", () => goToPermalink(thread));
    start(thread, firstPage);
    if (seed) countsOf(new URLSearchParams({ url: PAGE })) // newer than the server's copy?
      .then(({ data }) => data.counts[PAGE] - thread.total && start(thread), () => {});
  }
  function announce(thread, message) {
    thread.live.textContent = "";
    setTimeout(() => { thread.live.textContent = message; }, 50);
  }
  // A press that failed (a module that did not load, a reaction refused): said beside the button
  // pressed, as an alert, not only to screen readers; the next failure there replaces it.
  function failed(button, message) {
    const row = button.parentNode;
    const line = row.querySelector(":scope>.er") || row.appendChild(element("span", { class: "er", role: "alert" }));
    line.textContent = " " + message;
  }
  function setCount(thread, total) {
    const text = countText(thread.total = Math.max(0, total));
    thread.count.textContent = text;
    // The page's own count elements (a byline, say) move with its thread.
    for (const target of document.querySelectorAll("[data-comments-count]")) if (countPage(target) === PAGE) target.textContent = text;
  }

  // A page of top-level comments, asked for together with the language file (once).
  function requestPage(thread, next) {
    const query = new URLSearchParams({ url: PAGE, sort: thread.sort });
    if (next) query.set("cursor", thread.cursor);
    return Promise.all([api("GET", "/comments?" + query), loadStrings()]);
  }
  async function loadPage(thread, next, request = requestPage(thread, next)) {
    const [{ data }] = await request;
    thread.locked = data.thread.locked;
    serverConfig = data.config || serverConfig;
    // The site's default theme (docs/sites.md) where the script tag names none.
    if (!options.theme && serverConfig.default_theme) thread.root.className = "ws " + serverConfig.default_theme;
    thread.maxLength = serverConfig.max_text_length || thread.maxLength;
    setCount(thread, data.thread.comment_count);
    if (!next) setReactions(thread, null, data.thread.reactions);
    const fragment = document.createDocumentFragment();
    for (const comment of data.comments) fragment.append(renderComment(thread, comment, 0));
    const first = fragment.firstChild;
    thread.list.append(fragment);
    thread.cursor = data.next_cursor;
    thread.more.hidden = !thread.cursor;
    return first;
  }
  async function start(thread, request) {
    thread.status.hidden = false;
    thread.status.replaceChildren(strings.loading);
    thread.list.replaceChildren();
    thread.records.clear();
    try {
      await loadPage(thread, false, request);
    } catch (error) {
      thread.sortGroup.hidden = error.code === REFUSED; // nothing to sort where the server refuses the page
      return thread.status.replaceChildren(...error.code === REFUSED ? [strings.off] : [
        element("span", { class: "er", text: `${strings.loadErr} ${errorText(error)} ` }),
        actionButton("retry", strings.retry, "b")]);
    }
    thread.status.hidden = true;
    if (!thread.top.firstChild) {
      thread.top.append(thread.locked ? element("p", { class: "nt", text: strings.closed }) : createForm(thread));
    }
    if (serverConfig.accounts && session && sessionEndsSoon()) renewSession().catch(() => {});
    await showPending(thread);
    thread.empty.hidden = thread.list.children.length > 0;
    goToPermalink(thread);
    thread.sse ||= import(ORIGIN + "/widget-live.js").then((m) => m.default({ thread, page: PAGE, origin: ORIGIN, language,
      api, element, insertComment, rerenderComment, setCount,
      setReactions: (id, counts) => setReactions(thread, id, counts) }), () => {}); // live updates, once: docs/live.md
  }
  // Comments held for moderation (or shadowed) are shown to their author only, fetched with the edit token.
  function showPending(thread) {
    return Promise.all(Object.entries(editTokens).map(async ([id, { token, page, pending }]) => {
      if (page !== PAGE || thread.records.has(+id)) return;
      try {
        const { data } = await api("GET", "/comments/" + id, { editToken: token });
        // held; or own, published to its author's eyes but in no page of the whole thread (shadowed)
        if (data.state === "pending" || !pending && thread.more.hidden) return insertComment(thread, data, thread.records.get(data.parent_id));
        editTokens[id].pending = false;
      } catch (error) {
        if (error.status === 404) delete editTokens[id];
      }
      saveEditTokens();
    }));
  }
  async function loadMore(thread) {
    const { more } = thread;
    if (more.hasAttribute("aria-disabled")) return;
    more.setAttribute("aria-disabled", "true");
    try {
      (await loadPage(thread, true)).focus();
    } catch (error) { announce(thread, errorText(error)); }
    more.removeAttribute("aria-disabled");
  }
  function expand(button) { // "Show N more replies": the hidden replies above it come out, with all of theirs
    const hidden = [...button.previousElementSibling.children].filter((reply) => reply.hidden);
    for (const reply of hidden) {
      reply.hidden = false;
      for (const inner of reply.querySelectorAll("li[hidden]")) inner.hidden = false;
      for (const inner of reply.querySelectorAll(".mr")) inner.remove();
    }
    button.remove();
    return hidden[0];
  }
  // Permalinks: #comment-N scrolls to comment number N, loading pages until it is there, opening
  // the collapsed branches it is in, and highlights it.
  async function goToPermalink(thread) {
    const match = /^#comment-(\d+)$/.exec(location.hash);
    if (!match) return;
    const find = () => thread.shadow.getElementById("comment-" + match[1]);
    for (let pages = 0; !find() && thread.cursor && pages < 20; pages++) await loadPage(thread, true);
    const item = find();
    if (!item) return;
    for (let reply = item; reply; reply = reply.parentNode.closest("li")) {
      if (reply.hidden) expand(reply.parentNode.nextElementSibling);
    }
    for (const old of thread.shadow.querySelectorAll(".hl")) old.classList.remove("hl");
    item.classList.add("hl");
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "start", behavior: "smooth" });
  }
  // One listener for every action in the thread; forms handle their own buttons.
  function onThreadClick(thread, event) {
    const target = event.target.closest("[data-action]");
    if (!target) return;
    const item = target.closest("li");
    const record = item && thread.records.get(+item.dataset.id);
    switch (target.dataset.action) {
      case "permalink": // the hash changes and hashchange does the rest, unless it is already there
        return new URL(target.href).hash === location.hash && goToPermalink(thread);
      case "sort":
        if (target.dataset.sort === thread.sort) return;
        thread.sort = target.dataset.sort;
        for (const button of thread.sortGroup.children) button.setAttribute("aria-pressed", button === target);
        return start(thread);
      case "more": return loadMore(thread);
      case "retry": return start(thread);
      case "expand": return expand(target).focus();
      case "react": return react(thread, record, target.dataset.emoji, target);
      case "pick": // the picker is /widget-react.js, loaded on the first press
        return import(ORIGIN + "/widget-react.js").then((module) => module.default({ element, strings,
          button: target, emoji: serverConfig.reactions || [], pressed: (emoji) => reacted.has(reactionKey(record) + emoji),
          choose: (emoji) => react(thread, record, emoji, target) }), () => failed(target, strings.net));
      case "reply":
        return target.getAttribute("aria-expanded") === "true"
          ? closeReply(thread, record, true) : openReply(thread, record, target);
      case "edit": case "delete": case "confirm-delete": case "cancel-delete": // one's own: /widget-edit.js
        return (editModule ||= import(ORIGIN + "/widget-edit.js").then((module) => module.default({ api, element,
          actionButton, errorText, strings, editTokens, saveEditTokens, newId, commentBox, rerenderComment, setCount,
          announce }))).then((edit) => edit[target.dataset.action](thread, record, target),
          () => { editModule = null; failed(target, strings.net); });
      case "report": // the form is in /widget-report.js, loaded on the first press
        return import(ORIGIN + "/widget-report.js").then((module) => module.default(
          { api, element, errorText, language, comment: record.comment, button: target }), () => failed(target, strings.net));
    }
  }

  // ---- one comment, its replies nested below it -----------------------------------------
  const permalink = (number, text) => element("a", { href: HERE + "#comment-" + number, "data-action": "permalink", text });
  function renderComment(thread, comment, depth) {
    const author = comment.author || {};
    const deleted = comment.state === "deleted";
    const website = /^https?:\/\//i.test(author.website) && author.website;
    const created = new Date(comment.created_at);
    const parent = depth > 1 && thread.records.get(comment.parent_id);
    const item = element("li", { class: "c" + (deleted ? " del" : ""), id: "comment-" + comment.number, tabindex: -1,
      part: "comment", "data-id": comment.id });
    thread.records.set(comment.id, { comment, item, depth });
    thread.waiting?.delete(comment.id); // shown: no longer one of the live module's new comments
    const body = element("div", { class: "bd", part: "body", dir: "auto" }); // each comment in its own direction
    if (deleted) body.textContent = strings.deleted;
    else body.innerHTML = comment.html; // sanitized by the server: the only HTML we insert
    const mine = canEdit(comment.id);
    item.append(element("div", null,
      element("div", { class: "mt", part: "meta" },
        identicon(deleted ? "" : author.avatar || ""),
        !deleted && (website
          ? element("a", { class: "au", part: "author", dir: "auto", href: website, rel: "nofollow ugc noopener",
            target: "_blank", text: author.name || strings.anon })
          : element("span", { class: "au", part: "author", dir: "auto", text: author.name || strings.anon })),
        !deleted && author.verified && verifiedMark(author.verified_via),
        permalink(comment.number, "#" + comment.number),
        element("time", { datetime: comment.created_at, title: dateTimeFormat.format(created), text: timeAgo(created) }),
        comment.edited_at && element("span",
          { title: dateTimeFormat.format(new Date(comment.edited_at)), text: "· " + strings.edited }),
        parent && permalink(parent.comment.number, "↩ " + fill("replyTo", parent.comment.number)),
        comment.state === "pending" && element("span", { class: "pd", text: strings.pending })),
      body,
      !deleted && element("div", { class: "ac", part: "actions" },
        comment.state === "published" && reactionBar(comment.id, comment.reactions),
        !thread.locked && comment.state === "published"
          && actionButton("reply", strings.reply, null, { "aria-expanded": "false" }),
        mine && actionButton("edit", strings.edit), mine && actionButton("delete", strings.del),
        !mine && comment.state === "published" && actionButton("report", strings.report, null, { "aria-expanded": "false" }))));
    if (comment.replies && comment.replies.length) {
      const replies = element("ol", { class: "r", part: "replies" });
      for (const reply of comment.replies) replies.append(renderComment(thread, reply, depth + 1));
      item.append(replies);
      // Long threads: past the third level, or past five replies, the rest waits behind a button.
      const shown = depth > 1 ? 0 : replies.children.length > 5 ? 3 : 9;
      const hidden = [...replies.children].slice(shown);
      if (hidden.length) {
        for (const reply of hidden) reply.hidden = true;
        item.append(actionButton("expand", plural(strings.moreReplies,
          hidden.reduce((n, reply) => n + 1 + reply.querySelectorAll("li").length, 0)), "b mr", { part: "button" }));
      }
    }
    return item;
  }
  // The comment's own box (meta, body, actions), or one part of it.
  const commentBox = (record, selector) => record.item.querySelector(":scope>div" + (selector ? ">" + selector : ""));
  function rerenderComment(thread, record) { // its own box only: the replies stay
    const item = renderComment(thread, { ...record.comment, replies: [] }, record.depth);
    item.append(...[...record.item.children].slice(1)); // its replies, and their "show more" button
    record.item.replaceWith(item);
    return item;
  }
  function insertComment(thread, comment, parent) {
    parent = parent && thread.records.get(parent.comment.id); // its box may have been re-rendered since
    const item = renderComment(thread, { ...comment, replies: [] }, parent ? parent.depth + 1 : 0);
    if (parent) {
      let replies = parent.item.querySelector(":scope>ol");
      if (!replies) parent.item.append(replies = element("ol", { class: "r", part: "replies" }));
      replies.append(item);
    } else thread.list[thread.sort === "newest" ? "prepend" : "append"](item);
    thread.empty.hidden = true;
    return item;
  }

  // ---- reactions (docs/widget.md): to the page (record null) or a comment, pressed again to take back
  const reactionKey = (record) => (record ? record.comment.id : "p") + ":";
  function reactionBar(id, counts = {}) {
    const key = (id || "p") + ":";
    const list = (serverConfig.reactions || []).filter((emoji) => counts[emoji] || reacted.has(key + emoji));
    return element("span", { class: "rx", role: "group", "aria-label": strings.reactions, part: "reactions" },
      ...list.map((emoji) => actionButton("react", `${emoji} ${numberFormat.format(counts[emoji] || 0)}`, null,
        { "data-emoji": emoji, "aria-pressed": String(reacted.has(key + emoji)) })),
      serverConfig.reactions && actionButton("pick", "☺+", null, { "aria-label": strings.react, title: strings.react,
        "aria-expanded": "false" }));
  }
  // New counts for a target (from an answer, or the live module): its bar drawn again, focus kept.
  function setReactions(thread, id, counts) {
    const record = id && thread.records.get(id);
    const old = record ? commentBox(record, ".ac>.rx") : thread.reactions;
    if (!old) return;
    const focused = old.contains(thread.shadow.activeElement) && thread.shadow.activeElement.dataset.emoji;
    const bar = reactionBar(id, counts);
    if (record) record.comment.reactions = counts;
    else thread.reactions = bar;
    old.replaceWith(bar);
    if (focused) (bar.querySelector(`[data-emoji="${focused}"]`) || bar.lastChild).focus();
  }
  async function react(thread, record, emoji, button) {
    const key = reactionKey(record) + emoji, on = !reacted.has(key);
    try {
      const { data } = await api(on ? "POST" : "DELETE", "/reactions",
        { body: record ? { comment_id: record.comment.id, emoji } : { url: PAGE, emoji } });
      reacted[on ? "add" : "delete"](key);
      store("reacted", [...reacted].slice(-1e3));
      drop("liked");
      setReactions(thread, record && record.comment.id, data.reactions);
    } catch (error) { failed(button, errorText(error)); }
  }

  // ---- the post form, at the top or as a reply in place (parent: the record replied to);
  //      signed-in readers post as their account (the name fields hide) unless they tick
  //      "Post anonymously"
  function createForm(thread, parent) {
    const id = newId("ws-f");
    const input = (name, type, autocomplete, label, note) => {
      const field = element("input", { id: id + name, name, type, autocomplete, part: "input",
        maxlength: serverConfig[`max_${name}_length`] || 500 });
      const optional = `(${strings.opt}${note ? strings.comma + strings[note] : ""})`;
      return [field, element("div", null,
        element("label", { for: field.id }, strings[label], " ", element("small", { text: optional })), field)];
    };
    const [author, authorRow] = input("author", "text", "nickname", "name");
    const [email, emailRow] = input("email", "email", "email", "email", "notShown");
    const [website, websiteRow] = input("website", "url", "url", "site");
    author.placeholder = strings.anon;
    author.value = load("name", "");
    website.value = load("site", "");
    const identity = element("div", { class: "who" }, authorRow, emailRow, websiteRow);
    const checkbox = (label) => element("label", { class: "ck" }, element("input", { type: "checkbox" }), label);
    const anonymousOption = checkbox(strings.anon2), notifyOption = checkbox(strings.notify);
    const accountRow = element("div", { class: "mt", part: "account" });
    const text = element("textarea", { id: id + "t", name: "text", rows: 4, maxlength: thread.maxLength,
      part: "textarea", "aria-describedby": id + "e" });
    const parts = {
      fields: { text, author, email, website },
      honeypot: element("input", { name: "homepage", type: "text", tabindex: -1, autocomplete: "off", id: id + "h" }),
      anonymous: anonymousOption.firstChild,
      notify: notifyOption.firstChild,
      errorLine: element("p", { class: "er", role: "alert", id: id + "e", part: "error" }),
      notice: element("p", { class: "nt", role: "status", part: "notice" }),
      preview: element("div", { class: "pv", part: "preview", hidden: true }),
      submit: element("button", { class: "b p", part: "button button-primary", text: strings.post }),
    };
    function showAccount() { // run again whenever the session changes
      const signedIn = serverConfig.accounts && session, closed = serverConfig.anonymous_posting === false;
      accountRow.hidden = !serverConfig.accounts;
      accountRow.replaceChildren(...(signedIn
        ? [strings.as + " ", element("b", { dir: "auto", text: session.user.display_name }), verifiedMark(), " "]
        : [closed ? strings.must + " " : ""]),
      actionButton("account", signedIn ? strings.acct : strings.signIn, null, { "aria-expanded": "false" }));
      anonymousOption.hidden = !signedIn || closed;
      notifyOption.hidden = !serverConfig.notifications; // only where the server can send mail
      identity.hidden = signedIn ? !parts.anonymous.checked : closed;
    }
    parts.anonymous.addEventListener("change", showAccount);
    sessionListeners.add(showAccount);
    showAccount();
    const form = parts.form = element("form", { novalidate: true, part: "form" },
      accountRow,
      element("div", null, element("label", { for: text.id, text: parent ? fill("replyTo", parent.comment.number) : strings.text }), text),
      parts.preview, anonymousOption, identity, notifyOption,
      element("div", { class: "hp", "aria-hidden": "true" },
        element("label", { for: parts.honeypot.id, text: "Leave this empty" }), parts.honeypot),
      parts.errorLine,
      element("div", { class: "bar" },
        parent && actionButton("cancel", strings.cancel, "b"),
        actionButton("preview", strings.preview, "b", { part: "button" }), parts.submit),
      parts.notice);
    form.addEventListener("click", (event) => {
      const target = event.target.closest("[data-action]");
      if (!target) return;
      event.stopPropagation();
      switch (target.dataset.action) {
        case "cancel": return closeReply(thread, parent, true);
        case "account":
          return loadAccount().then((account) => account.open({ root: thread.shadow, form,
            announce: (message) => announce(thread, message), reload: () => start(thread) }),
          (error) => announce(thread, errorText(error)));
        case "preview": return showPreview(parts);
      }
    });
    // The draft: kept in this browser per page (and per comment replied to) until it is posted.
    parts.draft = "draft:" + PAGE + "#" + (parent ? parent.comment.id : "");
    text.value = load(parts.draft, "");
    text.addEventListener("input", () => {
      store(parts.draft, text.value);
      parts.preview.hidden = true;
      if (serverConfig.pow && !(session && !parts.anonymous.checked)) pow().then((work) => work.start(), () => {});
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      postComment(thread, parent, parts);
    });
    return form;
  }
  function showFormError(parts, error) {
    parts.errorLine.textContent = error.status || error.unreachable
      ? `${strings.failed} ${errorText(error)}` : error.message || "";
    for (const name in parts.fields) {
      parts.fields[name].setAttribute("aria-invalid", !!(error.fields && error.fields[name]));
    }
  }
  async function showPreview(parts) {
    showFormError(parts, {});
    if (!parts.fields.text.value.trim()) return showFormError(parts, { message: strings.need });
    try {
      const { data } = await api("POST", "/preview", { body: { text: parts.fields.text.value } });
      const rendered = element("div", { class: "bd", dir: "auto" });
      rendered.innerHTML = data.html; // sanitized by the server
      parts.preview.replaceChildren(element("small", { text: strings.preview }), rendered);
      parts.preview.hidden = false;
    } catch (error) { showFormError(parts, error); }
  }
  async function postComment(thread, parent, parts) {
    const { fields, notice, submit } = parts;
    if (thread.posting || parts.queued) return;
    notice.textContent = "";
    showFormError(parts, {});
    if (!fields.text.value.trim()) {
      showFormError(parts, { message: strings.need });
      return fields.text.focus();
    }
    thread.posting = true;
    submit.setAttribute("aria-disabled", "true");
    const body = {
      url: PAGE, title: TITLE, parent_id: parent ? parent.comment.id : null, text: fields.text.value,
      author: fields.author.value.trim(), email: fields.email.value.trim() || null,
      website: fields.website.value.trim() || null,
      homepage: parts.honeypot.value, form_token: formToken, notify: parts.notify.checked,
      lang: language, // the mails it may bring are in the reader's language
    };
    const asAccount = serverConfig.accounts && session && !parts.anonymous.checked;
    const mailed = body.notify && !asAccount; // the server mails a link to confirm the opt-in
    if (session && parts.anonymous.checked) body.anonymous = true;
    try {
      // a token close to its end is renewed first; a 401 renews and tries once more
      if (asAccount && sessionEndsSoon()) await renewSession();
      if (serverConfig.pow && !asAccount) body.altcha = await (await pow()).take();
      // One key per comment, kept while it is not sent: a repeat of a post whose answer was lost is
      // answered by the server with the comment already stored, never stored twice.
      parts.key ||= crypto.randomUUID();
      const send = () => api("POST", "/comments", { body, bearer: asAccount && session.token, key: parts.key });
      // A server restarting (the connection cut, or its proxy's 502/503) is asked again after 1 s,
      // then 3 s: the same key, so a post that was stored before its answer was lost stays one.
      const again = (wait) => (error) => navigator.onLine && (error.unreachable || error.status === 502 || error.status === 503)
        ? new Promise((done) => setTimeout(done, wait)).then(send) : Promise.reject(error);
      const { data, status } = await send().catch(again(1000)).catch(again(3000)).catch((error) => {
        if (error.status === 401 && asAccount) return renewSession().then(send);
        throw error;
      });
      store("name", body.author);
      store("site", body.website || "");
      const { comment } = data, held = status === 202;
      editTokens[comment.id] = {
        token: data.edit_token, editableUntil: Date.parse(data.editable_until), page: PAGE, pending: held };
      saveEditTokens();
      fields.text.value = parts.key = "";
      drop(parts.draft);
      parts.preview.hidden = true;
      const item = insertComment(thread, comment, parent);
      if (mailed) item.firstChild.append(element("p", { class: "nt", role: "note", part: "notice", text: strings.mailed }));
      if (held) {
        if (!parent) notice.textContent = strings.held; // the comment itself says it awaits moderation
      } else setCount(thread, thread.total + 1);
      announce(thread, (held ? strings.held : fill("posted", comment.number)) + (mailed ? " " + strings.mailed : ""));
      if (parent) closeReply(thread, parent);
      item.focus({ preventScroll: true });
      item.scrollIntoView({ block: "nearest" });
    } catch (error) {
      if (error.unreachable && !navigator.onLine) return queuePost(thread, parent, parts); // offline
      showFormError(parts, error); // nothing typed is lost: every field keeps its value
      const invalid = Object.values(fields).find((field) => field.getAttribute("aria-invalid") === "true");
      if (invalid) invalid.focus();
    } finally {
      thread.posting = false;
      submit.removeAttribute("aria-disabled");
    }
  }
  // Offline: the post waits, said so with a Cancel button, and is sent once when the browser is back online.
  function queuePost(thread, parent, parts) {
    const send = () => {
      parts.queued = null;
      parts.notice.textContent = "";
      postComment(thread, parent, parts);
    };
    const cancel = actionButton("unqueue", strings.cancel, "b", { part: "button" });
    cancel.onclick = () => {
      removeEventListener("online", send);
      parts.queued = null;
      parts.notice.textContent = "";
      parts.fields.text.focus();
    };
    parts.notice.replaceChildren(strings.queued + " ", cancel);
    parts.queued = true;
    addEventListener("online", send, { once: true });
  }
  // Reply forms: one per comment, opened under it.
  function openReply(thread, record, replyButton) {
    let form = thread.replyForms.get(record.comment.id);
    if (!form) thread.replyForms.set(record.comment.id, form = createForm(thread, record));
    commentBox(record).after(form);
    replyButton.setAttribute("aria-expanded", "true");
    form.querySelector("textarea").focus();
  }
  function closeReply(thread, record, refocus) {
    record = thread.records.get(record.comment.id); // its box may have been re-rendered since
    thread.replyForms.get(record.comment.id).remove();
    const replyButton = commentBox(record, ".ac>[data-action=reply]");
    if (!replyButton) return;
    replyButton.setAttribute("aria-expanded", "false");
    if (refocus) replyButton.focus();
  }

  // ---- comment counts on listing pages, all in one request (the API takes up to 100) ------
  function countPage(target) {
    try {
      const url = new URL(target.dataset.commentsCount || PAGE, document.baseURI);
      return /^https?:$/.test(url.protocol) ? url.href : "";
    } catch { return ""; }
  }
  // One request per list of pages: the thread's check of the server's copy and a byline's count share it.
  const countsAsked = {};
  const countsOf = (query) => countsAsked[query] ||= api("GET", "/counts?" + query);
  async function showCounts(targets) {
    const query = new URLSearchParams();
    for (const url of new Set(targets.map(countPage).filter(Boolean))) query.append("url", url);
    try {
      const [{ data: { counts } }] = await Promise.all([countsOf(query), loadStrings()]);
      for (const target of targets) if (countPage(target) in counts) target.textContent = countText(counts[countPage(target)]);
    } catch (error) { console.warn(LOG, "counts:", errorText(error)); }
  }

  // ---- start-up ---------------------------------------------------------------------------
  function init() {
    let host = options.target ? document.querySelector(options.target) : document.getElementById("comments");
    const countTargets = [...document.querySelectorAll("[data-comments-count]")];
    if (host && host.shadowRoot) return; // loaded twice: the first copy owns this mount point
    if (!host && !options.target && !countTargets.length) { // no mount point: right after the script tag
      host = element("div", { id: "comments" });
      if (script.closest("head")) document.body.append(host);
      else script.after(host);
    }
    // Lazy (the default): nothing is fetched until the reader is near the thread (or a permalink asks for it).
    if (host && (options.loading === "eager" || !window.IntersectionObserver || /^#comment-/.test(location.hash))) mount(host);
    else if (host) {
      const observer = new IntersectionObserver((entries) => {
        if (entries.some((entry) => entry.isIntersecting)) {
          observer.disconnect();
          mount(host);
        }
      }, { rootMargin: "800px 0px" });
      observer.observe(host);
    } else if (options.target) console.warn(LOG, "no element matches data-target", options.target);
    if (countTargets.length) showCounts(countTargets);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
