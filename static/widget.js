/* widget-server comments widget. Embedding, options, theming: docs/widget.md.
 * One IIFE, no globals, no build step. Renders into Shadow DOM with a
 * constructable stylesheet (works under a strict CSP); reader text goes in with
 * textContent, only the server's sanitized `html` field with innerHTML. */
(() => {
  "use strict";
  const me = document.currentScript; // null later: read it now
  if (!me || !me.src) return;
  const ORIGIN = new URL(me.src).origin;
  const API = ORIGIN + "/api/v1";
  const opt = me.dataset;
  const LOG = "[widget-server]";
  const STORE = "widget-server:";

  // ---- strings: English here, the fallback; every other language is one file on the server,
  //      /widget-i18n/LANG.json (from static/i18n/), fetched in parallel with the thread.
  //      {n}/{t} are filled in; `count` has the Intl.PluralRules forms; `dir` is "rtl" or absent.
  const EN = {
    title: "Discussion", count: { one: "{n} comment", other: "{n} comments" },
    sortBy: "Sort comments", oldest: "Oldest", newest: "Newest", top: "Top",
    empty: "No comments yet. Start the discussion!",
    text: "Your comment",
    name: "Name", email: "E-mail", site: "Website", opt: "optional", comma: ", ", notShown: "never shown",
    post: "Post comment", preview: "Preview",
    cancel: "Cancel", reply: "Reply", replyTo: "Reply to #{n}", like: "Like",
    edit: "Edit", del: "Delete", save: "Save", delQ: "Delete this comment?", delYes: "Yes, delete",
    anon: "Anonymous", deleted: "This comment was deleted.", edited: "edited",
    pending: "Awaiting moderation: only you can see this comment.",
    held: "Thank you! Your comment will appear once it is approved.",
    posted: "Your comment #{n} was posted.", more: "Show more comments",
    loading: "Loading comments…", loadErr: "The comments could not be loaded.", retry: "Try again",
    net: "The comment server could not be reached.",
    failed: "Not sent:", rate: "Too many attempts. Please try again {t}.", need: "Please write something first.",
    closed: "This discussion is closed for new comments.",
    signIn: "Sign in", acct: "Account", as: "Signed in as", anon2: "Post anonymously", notify: "Notify me of replies",
    ver: "Verified", must: "Sign in to comment.",
  };
  // The languages with a file on the server, written in by the server when it serves this script.
  const LANGS = "@LANGS@".split(" ");
  const want = [opt.lang, ...(navigator.languages || [navigator.language])]
    .map((x) => String(x || "").toLowerCase().split("-")[0]).find((x) => x === "en" || LANGS.includes(x)) || "en";
  let lang, T, nf, plurals, rtf, dtf;
  const use = (code, table) => {
    lang = code;
    T = { ...EN, ...table }; // a key the file lacks stays English
    nf = new Intl.NumberFormat(lang);
    plurals = new Intl.PluralRules(lang);
    rtf = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
    dtf = new Intl.DateTimeFormat(lang, { dateStyle: "long", timeStyle: "short" });
  };
  use("en");
  const i18n = (name) => fetch(`${ORIGIN}/widget-i18n/${name}.json`, { credentials: "omit" })
    .then((r) => r.ok ? r.json() : Promise.reject(r.status));
  // Asked for once, with the first request for comments or counts, and awaited with it: nothing
  // is rendered before both are in. Never rejects: a language file that fails leaves English.
  let asked;
  const strings = () => asked || (asked = want === "en" ? Promise.resolve() : i18n(want)
    .then((t) => use(want, t)).catch((e) => {
      use("en");
      console.warn(LOG, `no "${want}" strings (${e}), English instead`);
    }));
  const tr = (key, n) => T[key].replace(/\{\w\}/, n);
  const countText = (n) => (T.count[plurals.select(n)] || T.count.other).replace("{n}", nf.format(n));
  const UNITS = [["year", 31536e3], ["month", 2592e3], ["day", 86400], ["hour", 3600], ["minute", 60]];
  const ago = (date) => {
    const s = (date - Date.now()) / 1e3;
    for (const [unit, size] of UNITS) if (Math.abs(s) >= size) return rtf.format(Math.round(s / size), unit);
    return rtf.format(0, "second");
  };

  // ---- page options ----------------------------------------------------------------------
  const canonical = document.querySelector("link[rel=canonical]");
  const HERE = location.href.split("#")[0];
  const PAGE = opt.url || (canonical && canonical.href) || HERE;
  const TITLE = opt.title || document.title;
  const THEME = ["dark", "auto"].includes(opt.theme) ? opt.theme : "light";
  const SORTS = ["oldest", "newest", "top"];

  // ---- storage (may be blocked: every access guarded) ------------------------------------
  const load = (k, d) => { try { return JSON.parse(localStorage.getItem(STORE + k)) || d; } catch { return d; } };
  const keep = (k, v) => { try { localStorage.setItem(STORE + k, JSON.stringify(v)); } catch { /* private mode */ } };
  // Edit tokens by comment id: [token, editable_until (ms), page url, pending 0/1].
  const tokens = load("tokens", {});
  for (const id in tokens) if (Date.now() > tokens[id][1] + tokens[id][3] * 2592e6) delete tokens[id]; // pending: 30 days
  const saveTokens = () => keep("tokens", tokens);
  saveTokens();
  const liked = new Set(load("liked", []));
  const canEdit = (id) => tokens[id] && Date.now() < tokens[id][1];

  // ---- reader accounts (docs/accounts.md): the session pair lives in localStorage; its panels
  //      and renewal are in /widget-account.js, imported only when needed (the size budget)
  let S = load("session", null), cfg = {}, acct;
  const forms = new Set(); // each form's update function, run when the session changes
  const setSession = (s) => { keep("session", S = s); for (const u of forms) u(); };
  const account = () => acct || (acct = Promise.all([import(ORIGIN + "/widget-account.js"), // its strings alongside
    lang !== "en" && i18n("account/" + lang).catch(() => null)])
    .then(([m, M]) => m.default({ api, h, errorText, T, M, get: () => S, set: setSession }))
    .catch(() => { acct = null; throw { net: 1 }; }));
  const renew = () => account().then((m) => m.refresh()); // rejects, signed out, when it cannot renew
  const due = () => Date.now() > Date.parse(S.token_expires_at) - 6e4; // renew a minute ahead

  // ---- HTTP ------------------------------------------------------------------------------
  let formToken = null;
  async function api(method, path, body, editToken, bearer) {
    const headers = {};
    if (body) headers["Content-Type"] = "application/json";
    if (editToken) headers["X-Edit-Token"] = editToken;
    if (bearer) headers.Authorization = "Bearer " + bearer;
    let res;
    try {
      // no-cache: always revalidate (a 304 when unchanged), never show a stale thread after posting
      res = await fetch(API + path, { method, headers, body: body && JSON.stringify(body), credentials: "omit", cache: "no-cache" });
    } catch {
      throw { net: 1 };
    }
    formToken = res.headers.get("X-Form-Token") || formToken;
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) throw { ...(data && data.error), status: res.status, retry: res.headers.get("Retry-After") };
    return { data, status: res.status };
  }
  const LABELS = { text: "text", author: "name", email: "email", website: "site" };
  function errorText(e) { // the server's own words, per field when it names fields
    if (e.net) return T.net;
    if (e.status === 429) {
      const s = +e.retry || 60;
      return tr("rate", s > 90 ? rtf.format(Math.ceil(s / 60), "minute") : rtf.format(Math.ceil(s), "second"));
    }
    if (e.code === "thread_locked") return T.closed;
    const msg = String(Object.entries(e.fields || {}).map(([k, v]) => (T[LABELS[k]] || k) + ": " + v).join("; ") ||
      e.message || e.code || e.status);
    return msg[0].toUpperCase() + msg.slice(1) + (/[.!?]$/.test(msg) ? "" : ".");
  }

  // ---- DOM helpers -----------------------------------------------------------------------
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const k in attrs) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (k === "text") el.textContent = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids) if (kid != null && kid !== false) el.append(kid); // strings become text nodes
    return el;
  }
  const button = (action, text, cls, more) => h("button", { type: "button", "data-a": action, class: cls, text, ...more });
  const svg = (tag, attrs, ...kids) => {
    const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const k in attrs) el.setAttribute(k, attrs[k]);
    el.append(...kids);
    return el;
  };
  const mark = () => h("span", { class: "vf", role: "img", "aria-label": T.ver, title: T.ver, part: "verified", text: "✓" });
  const icons = new Map();
  // A 5x5 mirrored identicon from the avatar hash, drawn here: no request is made.
  function identicon(hash) {
    if (!/^[0-9a-f]{12,}$/i.test(hash)) hash = "";
    if (!icons.has(hash)) {
      const bits = parseInt(hash.slice(0, 8), 16);
      const hue = parseInt(hash.slice(8, 12), 16) % 360;
      let d = "M0 0";
      for (let i = 0; hash && i < 15; i++) {
        const x = i % 3, y = (i / 3) | 0;
        if (bits >> i & 1) d += `M${x + .5} ${y + .5}h1v1h-1zM${4.5 - x} ${y + .5}h1v1h-1z`;
      }
      icons.set(hash, svg("svg", { viewBox: "0 0 6 6", "aria-hidden": "true", class: "av", part: "avatar" },
        svg("rect", { width: 6, height: 6, rx: 3, fill: hash ? `hsl(${hue} 60% 91%)` : "#d0d5db" }),
        svg("path", { d, fill: `hsl(${hue} 55% 36%)` })));
    }
    return icons.get(hash).cloneNode(true);
  }

  // ---- styles: one constructable sheet, so no inline style is ever needed ----------------
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
.del .bd{font-style:italic;color:var(--mu)}
.ac{display:flex;flex-wrap:wrap;align-items:center;gap:4px;margin:4px 0 0;margin-inline-start:38px;font-size:.85em;color:var(--mu)}
.ac button,.mt button{border:0;background:none;border-radius:99px;padding:2px 10px;min-height:32px;cursor:pointer;font-weight:600;display:inline-flex;align-items:center;gap:5px}
.ac svg{width:16px;fill:none;stroke:currentColor;stroke-width:2}
.ac [aria-pressed=true]{color:var(--er)}
.ac [aria-pressed=true] svg{fill:currentColor}
.pd{font-size:.8em;font-weight:600;border-radius:99px;padding:1px 10px;background:var(--hl);color:var(--fg)}
.r{margin-inline-start:22px;padding-inline-start:14px;border-inline-start:2px solid var(--bd)}
.r .r .r .r{margin-inline-start:0;padding-inline-start:0;border:0}
@media (max-width:560px){.r .r{margin-inline-start:0;padding-inline-start:0;border:0}.r{margin-inline-start:6px;padding-inline-start:8px}
.bd,.c form{margin-inline-start:0}.who{grid-template-columns:1fr}.ac{margin-inline-start:-10px}.av{width:30px;height:30px}}
.em{text-align:center;padding:28px 16px;border:1px dashed var(--bd);border-radius:var(--r);color:var(--mu);margin:0}
.mo{display:block;margin:var(--g) auto 0}
.mt b{color:var(--fg)}
.mt button{color:var(--ac);margin-inline-start:-10px}
.vf{padding:0 .4em;border-radius:50%;background:var(--ac);color:var(--on);font-size:.75em}
.ck{display:flex;align-items:center;gap:8px;margin:0;font-weight:400}
.ck input{width:1.15em;height:1.15em;margin:0;accent-color:var(--ac)}
`;
  let sheet;

  // ---- one thread ------------------------------------------------------------------------
  async function mount(host) {
    const shadow = host.attachShadow({ mode: "open" });
    if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
    // Relative times ("5 minutes ago") stay true while the page stays open.
    setInterval(() => { for (const t of shadow.querySelectorAll("time")) t.textContent = ago(new Date(t.dateTime)); }, 6e4);
    const byId = new Map(); // comment id -> {c, li, depth}
    let sort = SORTS.includes(opt.sort) ? opt.sort : "oldest";
    let cursor = null, total = 0, locked = false, uid = 0, busy = false, maxLen = 1e4;
    // A page of top-level comments, asked for together with the language file (once).
    const get = (next) => {
      const q = new URLSearchParams({ url: PAGE, sort });
      if (next) q.set("cursor", cursor);
      return Promise.all([api("GET", "/comments?" + q), strings()]);
    };
    const initial = get();
    initial.catch(() => {}); // handled by start(); no "unhandled rejection" while the strings load
    await strings();

    const count = h("span", { class: "ct" });
    const sortBox = h("div", { class: "so", role: "group", "aria-label": T.sortBy, part: "sort" },
      ...SORTS.map((s) => button("sort", T[s], null, { "data-s": s, "aria-pressed": String(s === sort) })));
    const list = h("ol", { part: "list" });
    const empty = h("p", { class: "em", part: "empty", text: T.empty, hidden: true });
    const status = h("p", { role: "status" });
    const more = button("more", T.more, "b mo", { part: "button load-more", hidden: true });
    const live = h("div", { class: "sr", "aria-live": "polite" });
    const top = h("div");
    shadow.append(h("section", { class: "ws " + THEME, lang, dir: T.dir || "ltr", part: "root", "aria-labelledby": "ws-t" },
      h("div", { class: "hd", part: "header" }, h("h2", { id: "ws-t", part: "title" }, T.title, " ", count), sortBox),
      top, status, list, empty, more, live));
    const say = (msg) => { live.textContent = ""; setTimeout(() => { live.textContent = msg; }, 50); };
    const setCount = (n) => { count.textContent = countText(total = Math.max(0, n)); };
    const link = (n, text) => h("a", { href: HERE + "#comment-" + n, "data-a": "go", text });

    // -- one comment, its replies nested below it
    function render(c, depth) {
      const a = c.author || {};
      const gone = c.state === "deleted";
      const site = /^https?:\/\//i.test(a.website) && a.website;
      const when = new Date(c.created_at);
      const parent = depth > 1 && byId.get(c.parent_id);
      const li = h("li", { class: "c" + (gone ? " del" : ""), id: "comment-" + c.number, tabindex: -1, part: "comment", "data-id": c.id });
      byId.set(c.id, { c, li, depth });
      const body = h("div", { class: "bd", part: "body", dir: "auto" }); // each comment in its own direction
      if (gone) body.textContent = T.deleted;
      else body.innerHTML = c.html; // sanitized by the server: the only HTML we insert
      const mine = canEdit(c.id);
      li.append(h("div", null,
        h("div", { class: "mt", part: "meta" },
          identicon(gone ? "" : a.avatar || ""),
          !gone && (site
            ? h("a", { class: "au", part: "author", dir: "auto", href: site, rel: "nofollow ugc noopener", target: "_blank", text: a.name || T.anon })
            : h("span", { class: "au", part: "author", dir: "auto", text: a.name || T.anon })),
          !gone && a.verified && mark(),
          link(c.number, "#" + c.number),
          h("time", { datetime: c.created_at, title: dtf.format(when), text: ago(when) }),
          c.edited_at && h("span", { title: dtf.format(new Date(c.edited_at)), text: "· " + T.edited }),
          parent && link(parent.c.number, "↩ " + tr("replyTo", parent.c.number)),
          c.state === "pending" && h("span", { class: "pd", text: T.pending })),
        body,
        !gone && h("div", { class: "ac", part: "actions" },
          c.state === "published" && h("button", { type: "button", "data-a": "like", part: "like", "aria-pressed": liked.has(c.id) + "" },
            svg("svg", { viewBox: "0 0 24 24", "aria-hidden": "true" }, svg("path", { d: "M12 20 3.5 11.5A5 5 0 0 1 12 5a5 5 0 0 1 8.5 6.5z" })),
            h("span", { class: "sr", text: T.like + " " }), c.likes ? nf.format(c.likes) : ""),
          !locked && c.state === "published" && button("reply", T.reply, null, { "aria-expanded": "false" }),
          mine && button("edit", T.edit), mine && button("del", T.del))));
      if (c.replies && c.replies.length) {
        const ol = h("ol", { class: "r", part: "replies" });
        for (const r of c.replies) ol.append(render(r, depth + 1));
        li.append(ol);
      }
      return li;
    }
    const box = (rec, sel) => rec.li.querySelector(":scope>div" + (sel ? ">" + sel : ""));
    function refresh(rec) { // re-render one comment's own box, keeping its replies
      const li = render({ ...rec.c, replies: [] }, rec.depth);
      const ol = rec.li.querySelector(":scope>ol");
      if (ol) li.append(ol);
      rec.li.replaceWith(li);
      return li;
    }
    function insert(c, parent) {
      parent = parent && byId.get(parent.c.id); // its box may have been re-rendered since
      const li = render({ ...c, replies: [] }, parent ? parent.depth + 1 : 0);
      if (parent) {
        let ol = parent.li.querySelector(":scope>ol");
        if (!ol) parent.li.append(ol = h("ol", { class: "r", part: "replies" }));
        ol.append(li);
      } else list[sort === "newest" ? "prepend" : "append"](li);
      empty.hidden = true;
      return li;
    }

    // -- the post form, at the top or as a reply in place; signed-in readers post as their
    //    account (the name fields hide) unless they tick "Post anonymously"
    function form(parent) {
      const id = "ws-f" + ++uid;
      const input = (name, type, auto, label, note) => {
        const el = h("input", { id: id + name, name, type, autocomplete: auto, part: "input", maxlength: { author: 100, email: 254 }[name] || 500 });
        return [el, h("div", null, h("label", { for: el.id }, T[label], " ", h("small", { text: `(${T.opt}${note ? T.comma + T[note] : ""})` })), el)];
      };
      const [author, fa] = input("author", "text", "nickname", "name");
      const [email, fe] = input("email", "email", "email", "email", "notShown");
      const [website, fw] = input("website", "url", "url", "site");
      author.placeholder = T.anon;
      author.value = load("name", "");
      website.value = load("site", "");
      const identity = h("div", { class: "who" }, fa, fe, fw);
      const check = (label) => h("label", { class: "ck" }, h("input", { type: "checkbox" }), label);
      const fan = check(T.anon2), fn = check(T.notify), anon = fan.firstChild;
      const row = h("div", { class: "mt", part: "account" });
      const update = () => {
        const mine = cfg.accounts && S, closed = cfg.anonymous_posting === false;
        row.hidden = !cfg.accounts;
        row.replaceChildren(...(mine ? [T.as + " ", h("b", { dir: "auto", text: S.user.display_name }), mark(), " "] : [closed ? T.must + " " : ""]),
          button("acct", mine ? T.acct : T.signIn, null, { "aria-expanded": "false" }));
        fan.hidden = !mine || closed;
        fn.hidden = !cfg.notifications; // only where the server can send mail
        identity.hidden = mine ? !anon.checked : closed;
      };
      anon.addEventListener("change", update);
      forms.add(update);
      update();
      const ta = h("textarea", { id: id + "t", name: "text", rows: 4, maxlength: maxLen, part: "textarea", "aria-describedby": id + "e" });
      const trap = h("input", { name: "homepage", type: "text", tabindex: -1, autocomplete: "off", id: id + "h" });
      const err = h("p", { class: "er", role: "alert", id: id + "e", part: "error" });
      const note = h("p", { class: "nt", role: "status", part: "notice" });
      const pv = h("div", { class: "pv", part: "preview", hidden: true });
      const submit = h("button", { class: "b p", part: "button button-primary", text: T.post });
      const f = h("form", { novalidate: true, part: "form" },
        row, h("div", null, h("label", { for: ta.id, text: parent ? tr("replyTo", parent.c.number) : T.text }), ta),
        pv, fan, identity, fn,
        h("div", { class: "hp", "aria-hidden": "true" }, h("label", { for: trap.id, text: "Leave this empty" }), trap),
        err,
        h("div", { class: "bar" },
          parent && button("cancel", T.cancel, "b"), button("preview", T.preview, "b", { part: "button" }), submit),
        note);
      const fields = { text: ta, author, email, website };
      const fail = (e) => {
        err.textContent = e.status || e.net ? `${T.failed} ${errorText(e)}` : e.message || "";
        for (const k in fields) fields[k].setAttribute("aria-invalid", !!(e.fields && e.fields[k]));
      };
      f.addEventListener("click", async (ev) => {
        const action = ev.target.closest("[data-a]");
        if (!action) return;
        ev.stopPropagation();
        if (action.dataset.a === "cancel") return closeReply(parent, true);
        if (action.dataset.a === "acct") return account().then((m) => m.open({ root: shadow, at: f, say, reload: start }), (e) => say(errorText(e)));
        fail({});
        if (!ta.value.trim()) return fail({ message: T.need });
        try {
          const { data } = await api("POST", "/preview", { text: ta.value });
          const out = h("div", { class: "bd", dir: "auto" });
          out.innerHTML = data.html; // sanitized by the server
          pv.replaceChildren(h("small", { text: T.preview }), out);
          pv.hidden = false;
        } catch (e) { fail(e); }
      });
      ta.addEventListener("input", () => { pv.hidden = true; });
      f.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        if (busy) return;
        note.textContent = "";
        fail({});
        if (!ta.value.trim()) {
          fail({ message: T.need });
          return ta.focus();
        }
        busy = true;
        submit.setAttribute("aria-disabled", "true");
        const body = {
          url: PAGE, title: TITLE, parent_id: parent ? parent.c.id : null, text: ta.value,
          author: author.value.trim(), email: email.value.trim() || null, website: website.value.trim() || null,
          homepage: trap.value, form_token: formToken, notify: fn.firstChild.checked,
        };
        const asMe = cfg.accounts && S && !anon.checked;
        if (S && anon.checked) body.anonymous = true;
        try {
          // a token close to its end is renewed first; a 401 renews and tries once more
          if (asMe && due()) await renew();
          const send = () => api("POST", "/comments", body, null, asMe && S.token);
          const { data, status: code } = await send().catch((e) => { if (e.status === 401 && asMe) return renew().then(send); throw e; });
          keep("name", body.author);
          keep("site", body.website || "");
          const c = data.comment;
          tokens[c.id] = [data.edit_token, Date.parse(data.editable_until), PAGE, +(code === 202)];
          saveTokens();
          ta.value = "";
          pv.hidden = true;
          const li = insert(c, parent);
          if (code === 202) {
            if (!parent) note.textContent = T.held; // the comment itself says it awaits moderation
          } else setCount(total + 1);
          say(code === 202 ? T.held : tr("posted", c.number));
          if (parent) closeReply(parent);
          li.focus({ preventScroll: true });
          li.scrollIntoView({ block: "nearest" });
        } catch (e) {
          fail(e); // nothing typed is lost: every field keeps its value
          const bad = Object.values(fields).find((el) => el.getAttribute("aria-invalid") === "true");
          if (bad) bad.focus();
        } finally {
          busy = false;
          submit.removeAttribute("aria-disabled");
        }
      });
      f.ta = ta;
      return f;
    }

    // -- reply forms: one per comment, kept while the page lives so a draft survives Cancel
    const replyForms = new Map();
    function openReply(rec, b) {
      let f = replyForms.get(rec.c.id);
      if (!f) replyForms.set(rec.c.id, f = form(rec));
      box(rec).after(f);
      b.setAttribute("aria-expanded", "true");
      f.ta.focus();
    }
    function closeReply(rec, refocus) {
      rec = byId.get(rec.c.id);
      replyForms.get(rec.c.id).remove();
      const b = box(rec, ".ac>[data-a=reply]");
      if (!b) return;
      b.setAttribute("aria-expanded", "false");
      if (refocus) b.focus();
    }

    // -- edit and delete one's own comment, in place
    async function startEdit(rec, b) {
      const token = tokens[rec.c.id][0];
      const err = h("p", { class: "er", role: "alert" });
      let source;
      try {
        source = (await api("GET", "/comments/" + rec.c.id, null, token)).data.text;
      } catch (e) {
        err.textContent = errorText(e);
        return b.parentNode.after(err);
      }
      const id = "ws-e" + ++uid;
      const ta = h("textarea", { id, rows: 4, part: "textarea", maxlength: maxLen });
      ta.value = source;
      const f = h("form", { novalidate: true, part: "form" },
        h("div", null, h("label", { for: id, text: T.edit + " #" + rec.c.number }), ta), err,
        h("div", { class: "bar" }, button("x", T.cancel, "b"), h("button", { class: "b p", text: T.save })));
      const parts = [box(rec, ".bd"), box(rec, ".ac")];
      for (const el of parts) el.hidden = true;
      parts[0].after(f);
      ta.focus();
      f.addEventListener("click", (ev) => {
        if (!ev.target.closest("[data-a=x]")) return;
        ev.stopPropagation();
        f.remove();
        for (const el of parts) el.hidden = false;
        b.focus();
      });
      f.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        try {
          const { data } = await api("PATCH", "/comments/" + rec.c.id, { text: ta.value }, token);
          rec.c = { ...rec.c, ...data.comment, state: rec.c.state };
          refresh(rec).focus();
        } catch (e) { err.textContent = `${T.failed} ${errorText(e)}`; }
      });
    }
    function askDelete(b) {
      const acts = b.parentNode;
      const q = h("div", { class: "ac", role: "group", "aria-label": T.delQ },
        h("span", { text: T.delQ }), button("delYes", T.delYes), button("delNo", T.cancel));
      acts.hidden = true;
      acts.after(q);
      q.children[1].focus();
    }
    async function doDelete(rec, q) {
      try {
        await api("DELETE", "/comments/" + rec.c.id, null, tokens[rec.c.id][0]);
      } catch (e) {
        q.firstChild.textContent = errorText(e);
        return;
      }
      delete tokens[rec.c.id];
      saveTokens();
      if (rec.c.state === "published") setCount(total - 1);
      let next;
      if (rec.li.querySelector(":scope>ol>li")) { // it has replies: it stays as a tombstone
        rec.c = { ...rec.c, state: "deleted", html: "", author: {} };
        next = refresh(rec);
      } else {
        next = rec.li.nextElementSibling || rec.li.parentNode.closest("li") || top.querySelector("textarea");
        rec.li.remove();
        byId.delete(rec.c.id);
        empty.hidden = list.children.length > 0;
      }
      say(T.deleted);
      if (next) next.focus();
    }

    async function like(rec, b) {
      if (liked.has(rec.c.id)) return;
      try {
        const { data } = await api("POST", `/comments/${rec.c.id}/like`, {});
        liked.add(rec.c.id);
        keep("liked", [...liked].slice(-500));
        b.setAttribute("aria-pressed", "true");
        b.lastChild.textContent = nf.format(rec.c.likes = data.likes);
      } catch (e) { say(errorText(e)); }
    }

    // -- permalinks: #comment-N scrolls to comment number N and highlights it
    async function goTo() {
      const m = /^#comment-(\d+)$/.exec(location.hash);
      if (!m) return;
      const find = () => shadow.getElementById("comment-" + m[1]);
      for (let i = 0; !find() && cursor && i < 20; i++) await page(true);
      const li = find();
      if (!li) return;
      for (const old of shadow.querySelectorAll(".hl")) old.classList.remove("hl");
      li.classList.add("hl");
      li.focus({ preventScroll: true });
      li.scrollIntoView({ block: "start", behavior: "smooth" });
    }

    // -- loading the thread, a page of top-level comments at a time
    async function page(next, req = get(next)) {
      const [{ data }] = await req;
      locked = data.thread.locked;
      cfg = data.config || cfg;
      maxLen = cfg.max_text_length || maxLen;
      setCount(data.thread.comment_count);
      const frag = document.createDocumentFragment();
      for (const c of data.comments) frag.append(render(c, 0));
      const first = frag.firstChild;
      list.append(frag);
      cursor = data.next_cursor;
      more.hidden = !cursor;
      return first;
    }
    async function start(req) {
      status.hidden = false;
      status.replaceChildren(T.loading);
      list.replaceChildren();
      byId.clear();
      try {
        await page(false, req);
      } catch (e) {
        return status.replaceChildren(h("span", { class: "er", text: `${T.loadErr} ${errorText(e)} ` }), button("retry", T.retry, "b"));
      }
      status.hidden = true;
      if (!top.firstChild) top.append(locked ? h("p", { class: "nt", text: T.closed }) : form());
      if (cfg.accounts && S && due()) renew().catch(() => {});
      await pending();
      empty.hidden = list.children.length > 0;
      goTo();
    }
    // Comments held for moderation are shown to their author only, fetched with the edit token.
    function pending() {
      return Promise.all(Object.entries(tokens).map(async ([id, [token, , url, waiting]]) => {
        if (!waiting || url !== PAGE || byId.has(+id)) return;
        try {
          const { data } = await api("GET", "/comments/" + id, null, token);
          if (data.state === "pending") return insert(data, byId.get(data.parent_id));
          tokens[id][3] = 0;
        } catch (e) {
          if (e.status === 404) delete tokens[id];
        }
        saveTokens();
      }));
    }

    // -- one listener for every action in the thread
    shadow.addEventListener("click", async (ev) => {
      const b = ev.target.closest("[data-a]");
      if (!b) return;
      const li = b.closest("li");
      const rec = li && byId.get(+li.dataset.id);
      switch (b.dataset.a) {
        case "go": // the hash changes and hashchange does the rest, unless it is already there
          return new URL(b.href).hash === location.hash && goTo();
        case "sort":
          if (b.dataset.s === sort) return;
          sort = b.dataset.s;
          for (const x of sortBox.children) x.setAttribute("aria-pressed", x === b);
          return start();
        case "more":
          if (more.hasAttribute("aria-disabled")) return;
          more.setAttribute("aria-disabled", "true");
          try {
            (await page(true)).focus();
          } catch (e) { say(errorText(e)); }
          return more.removeAttribute("aria-disabled");
        case "retry": return start();
        case "like": return like(rec, b);
        case "reply": return b.getAttribute("aria-expanded") === "true" ? closeReply(rec, true) : openReply(rec, b);
        case "edit": return startEdit(rec, b);
        case "del": return askDelete(b);
        case "delYes": return doDelete(rec, b.parentNode);
        case "delNo": {
          const acts = b.parentNode.previousElementSibling;
          b.parentNode.remove();
          acts.hidden = false;
          return acts.querySelector("[data-a=del]").focus();
        }
      }
    });
    addEventListener("hashchange", goTo);
    start(initial);
  }

  // ---- comment counts on listing pages, all in one request (the API takes up to 100) ------
  async function counts(els) {
    const abs = (el) => {
      try {
        const u = new URL(el.dataset.commentsCount || PAGE, document.baseURI);
        return /^https?:$/.test(u.protocol) ? u.href : "";
      } catch { return ""; }
    };
    const q = new URLSearchParams();
    for (const u of new Set(els.map(abs).filter(Boolean))) q.append("url", u);
    try {
      const [{ data: { counts: found } }] = await Promise.all([api("GET", "/counts?" + q), strings()]);
      for (const el of els) if (abs(el) in found) el.textContent = countText(found[abs(el)]);
    } catch (e) { console.warn(LOG, "counts:", errorText(e)); }
  }

  function init() {
    let host = opt.target ? document.querySelector(opt.target) : document.getElementById("comments");
    const countEls = [...document.querySelectorAll("[data-comments-count]")];
    if (host && host.shadowRoot) return; // loaded twice: the first copy owns this mount point
    if (!host && !opt.target && !countEls.length) { // no mount point: right after the script tag
      host = h("div", { id: "comments" });
      if (me.closest("head")) document.body.append(host);
      else me.after(host);
    }
    if (host) mount(host);
    else if (opt.target) console.warn(LOG, "no element matches data-target", opt.target);
    if (countEls.length) counts(countEls);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
