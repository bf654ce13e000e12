/* widget-server reader accounts: the sign-in, sign-up, "forgot password?" and account
 * panels, and the renewal of the session. An ES module that /widget.js imports only when
 * a reader asks to sign in or a stored session needs renewing, so readers who never sign
 * in never download it. It receives everything from the widget (no globals): the API
 * helpers, the strings of the reader's language, and the session getter and setter; the
 * session pair is kept by the widget in localStorage (no cookies). docs/accounts.md. */
"use strict";

// ---- strings of the panels: English here, the fallback; the widget fetches the reader's
//      language (/widget-i18n/account/LANG.json, from static/i18n/) alongside this module.
//      {n} is filled in.
const EN = {
  close: "Close", in: "Sign in", email: "E-mail", pw: "Password", forgot: "Forgot password?",
  new: "New here?", up: "Create an account", name: "Display name", nameNote: "shown with your comments",
  pwNote: "at least 8 characters", upGo: "Create account",
  upNote: "You choose your password on the page the mail's link opens: only the address's owner can.",
  upDone: "Almost done: open the link in the mail we just sent you, choose your password there, then sign in here.",
  fg: "Reset your password", fgText: "We will mail you a link to choose a new password.",
  fgGo: "Send the link", fgDone: "If this address has an account, a mail with a link is on its way.",
  back: "Back to sign in", inDone: "Signed in as {n}.", me: "Your account", save: "Save name", saved: "Saved.",
  pw2: "Change password", cur: "Current password", newPw: "New password", pwGo: "Change password",
  pwDone: "Password changed. Your other devices are signed out.", data: "Download my data",
  out: "Sign out", outDone: "You are signed out.", del: "Delete account", delPw: "Password, to confirm",
  delWhat: "Your comments", keep: "Keep them, without my name", rm: "Remove them",
  delGo: "Delete my account for good", delDone: "Your account is deleted.",
  expired: "Your session has ended. Please sign in again.",
};
// API field -> the label that names it in an error message
const FIELDS = { email: "email", display_name: "name", password: "pw", current_password: "cur" };
const STORE = "widget-server:session"; // the widget's key: read here only to see another tab's renewal

const CSS = `
.pn{position:relative;margin:0 0 var(--g);padding:14px 18px 18px;border:1px solid var(--bd);border-radius:var(--r);background:var(--sf)}
.pn h3{margin:0 0 10px;padding-inline-end:44px;font-size:1.15em;line-height:1.3}
.pn h3:focus{outline:0}
.pn form{margin:0;gap:8px}
.pn p{margin:0 0 8px}
.pn input{background:var(--bg);box-sizing:border-box}
.pn .x{position:absolute;top:8px;inset-inline-end:8px;width:36px;height:36px;border:0;border-radius:50%;background:none;cursor:pointer;font-size:1.4em;line-height:1;color:var(--mu)}
.pn .x:hover{background:var(--bg);color:var(--fg)}
.lk{border:0;background:none;padding:0 4px;min-height:30px;cursor:pointer;color:var(--ac);font-weight:600;text-decoration:underline;text-underline-offset:.15em}
.pn .sw{display:flex;flex-wrap:wrap;align-items:center;gap:2px 18px;margin:6px 0 0;margin-inline-start:-4px;font-size:.875em;color:var(--mu)}
.sw span{display:inline-flex;align-items:center;gap:2px}
.pn .acts{display:flex;flex-wrap:wrap;gap:8px;margin:14px 0 0}
.pn details{margin:14px 0 0;padding-top:10px;border-top:1px solid var(--bd)}
.pn summary{cursor:pointer;font-weight:600;font-size:.9em;min-height:30px;width:fit-content}
.pn details form{margin-top:8px}
.pn fieldset{margin:0;padding:0;border:0;display:grid;gap:4px}
.pn legend{padding:0;margin-bottom:4px;font-size:.875em;font-weight:600}
.pn .rd{display:flex;align-items:center;gap:8px;margin:0;font-weight:400}
.pn .rd input{width:1.15em;height:1.15em;margin:0;accent-color:var(--ac)}
.b.d{border-color:var(--er);color:var(--er)}
.b.d:hover{background:var(--bg);color:var(--er)}
`;
let sheet;

export default function accounts({ api, h, errorText, T, M: strings, get, set }) {
  const M = { ...EN, ...strings }; // a key the language file lacks (or the whole file) stays English
  const fill = (text, n) => text.replace("{n}", n);
  let panel = null, at = null, opened = null, uid = 0, renewing = null;

  // ---- the session: renewed before it ends, or after a 401 ---------------------------------
  // One renewal at a time (the refresh token works once). Rejects, and signs out, when the
  // session cannot be renewed; a network failure keeps the session for a later try.
  function refresh() {
    return renewing || (renewing = (async () => {
      const s = get();
      if (!s || !(Date.now() < Date.parse(s.refresh_expires_at))) {
        set(null);
        throw { status: 401, message: M.expired };
      }
      try {
        set((await api("POST", "/auth/refresh", { refresh_token: s.refresh_token })).data);
      } catch (e) {
        if (e.status !== 401) throw e;
        let other = null;
        try { other = JSON.parse(localStorage.getItem(STORE)); } catch { /* storage blocked */ }
        if (other && other.refresh_token !== s.refresh_token) return set(other); // another tab renewed it
        set(null);
        throw { ...e, message: M.expired };
      }
    })().finally(() => { renewing = null; }));
  }
  // A request as the signed-in reader (account changes, data download, deletion).
  async function authed(method, path, body) {
    if (Date.now() > Date.parse(get().token_expires_at) - 6e4) await refresh();
    try {
      return await api(method, path, body, null, get().token);
    } catch (e) {
      if (e.status !== 401) throw e;
      await refresh();
      return api(method, path, body, null, get().token);
    }
  }

  // ---- the panel: opened above the post form whose "Sign in" (or "Account") was pressed ----
  const button = () => at && at.querySelector("[data-a=acct]");
  function close(refocus) {
    if (!panel) return;
    panel.remove();
    panel = null;
    const b = button();
    if (b) {
      b.setAttribute("aria-expanded", "false");
      if (refocus) b.focus();
    }
  }
  function open({ root, at: form, say, reload }) {
    if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(CSS);
    if (!root.adoptedStyleSheets.includes(sheet)) root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    const again = panel && at === form;
    close(again);
    if (again) return; // the same button again: it toggles
    at = form;
    opened = { say, reload };
    const id = "ws-p" + ++uid;
    const heading = h("h3", { id, tabindex: -1 });
    const body = h("div");
    panel = h("section", { class: "pn", part: "account-panel", "aria-labelledby": id },
      heading, h("button", { type: "button", class: "x", "aria-label": M.close, title: M.close, text: "×" }), body);
    panel.addEventListener("click", (ev) => { if (ev.target.closest(".x")) close(true); });
    panel.addEventListener("keydown", (ev) => {
      if (ev.key !== "Escape") return;
      ev.preventDefault();
      ev.stopPropagation();
      close(true);
    });
    const cache = {}; // each view is built once, so nothing typed is lost when switching back
    let email = "";
    panel.show = (view) => {
      const current = body.querySelector("input[name=email]");
      if (current) email = current.value;
      const kids = cache[view] || (cache[view] = VIEWS[view]());
      heading.textContent = M[view];
      body.replaceChildren(...kids);
      const mail = body.querySelector("input[name=email]");
      if (mail && !mail.value) mail.value = email;
      const first = body.querySelector("input:not([type=hidden])");
      (view === "me" ? heading : first).focus();
    };
    form.before(panel);
    button().setAttribute("aria-expanded", "true");
    panel.show(get() ? "me" : "in");
  }
  const put = (session) => { // the widget re-renders its forms; keep this form's button marked open
    set(session);
    if (panel && button()) button().setAttribute("aria-expanded", "true");
  };

  // ---- building blocks ------------------------------------------------------------------------
  // A form of labelled inputs, an error line and a notice; `go` sends it and may return a notice.
  // spec rows: [label key, API field, input type, autocomplete, note key]
  function box(spec, submitText, go, extra, danger) {
    const inputs = {};
    const rows = spec.map(([label, name, type, auto, note]) => {
      const el = h("input", { id: "ws-p" + ++uid, name, type, autocomplete: auto, part: "input", required: true,
        maxlength: type === "password" ? 1000 : 254, spellcheck: "false" });
      inputs[name] = el;
      return h("div", null, h("label", { for: el.id }, M[label], note && " ", note && h("small", { text: `(${M[note]})` })), el);
    });
    const err = h("p", { class: "er", role: "alert", part: "error" });
    const note = h("p", { class: "nt", role: "status", part: "notice" });
    const submit = h("button", { class: danger ? "b d" : "b p", part: danger ? "button" : "button button-primary", text: submitText });
    const f = h("form", { novalidate: true, part: "form" }, ...rows, extra, err, h("div", { class: "bar" }, submit), note);
    let busy = false;
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (busy) return;
      busy = true;
      submit.setAttribute("aria-disabled", "true");
      err.textContent = note.textContent = "";
      const body = {};
      for (const k in inputs) {
        inputs[k].removeAttribute("aria-invalid");
        body[k] = inputs[k].type === "password" ? inputs[k].value : inputs[k].value.trim();
      }
      try {
        note.textContent = (await go(body, inputs)) || "";
      } catch (e) {
        const named = {};
        for (const k in e.fields || {}) {
          named[M[FIELDS[k]] || k] = e.fields[k];
          if (inputs[k]) inputs[k].setAttribute("aria-invalid", "true");
        }
        err.textContent = errorText({ ...e, fields: named }); // the server's words; typed values stay
        const bad = f.querySelector("[aria-invalid=true]");
        if (bad) bad.focus();
      } finally {
        busy = false;
        submit.removeAttribute("aria-disabled");
      }
    });
    f.inputs = inputs;
    return f;
  }
  const link = (view, text) => h("button", { type: "button", class: "lk", text: text || M[view], "data-v": view });
  const switches = (...kids) => {
    const p = h("p", { class: "sw" }, ...kids);
    p.addEventListener("click", (ev) => {
      const b = ev.target.closest("[data-v]");
      if (b) panel.show(b.dataset.v);
    });
    return p;
  };
  const EMAIL = ["email", "email", "email", "username"];

  // ---- the views: sign in, sign up, forgot password, the account -----------------------------
  const VIEWS = {
    in: () => [
      box([EMAIL, ["pw", "password", "password", "current-password"]], M.in, async (body) => {
        const { data } = await api("POST", "/auth/login", body);
        const form = at, { say } = opened;
        put(data);
        close();
        form.querySelector("textarea").focus();
        say(fill(M.inDone, data.user.display_name));
      }),
      switches(link("fg", M.forgot), h("span", null, M.new, " ", link("up"))),
    ],
    up: () => [
      h("p", { text: M.upNote }), // the password comes after the proof (the link's page)
      box([EMAIL, ["name", "display_name", "text", "nickname", "nameNote"]], M.upGo, async (body) => {
        await api("POST", "/auth/signup", body);
        return M.upDone;
      }),
      switches(link("in", M.back)),
    ],
    fg: () => [
      h("p", { text: M.fgText }),
      box([EMAIL], M.fgGo, async (body) => {
        await api("POST", "/auth/forgot", body);
        return M.fgDone;
      }),
      switches(link("in", M.back)),
    ],
    me: () => {
      const who = h("b", { dir: "auto", text: get().user.display_name });
      const name = box([["name", "display_name", "text", "nickname", "nameNote"]], M.save, async (body) => {
        const { data } = await authed("PATCH", "/account", body);
        put({ ...get(), user: data.user });
        who.textContent = data.user.display_name;
        opened.reload();
        return M.saved;
      });
      name.inputs.display_name.value = who.textContent;
      const pw = box([["cur", "current_password", "password", "current-password"],
        ["newPw", "password", "password", "new-password", "pwNote"]], M.pwGo, async (body, inputs) => {
        await authed("PATCH", "/account", body);
        inputs.current_password.value = inputs.password.value = "";
        return M.pwDone;
      });
      const radio = (value, label, checked) => h("label", { class: "rd" },
        h("input", { type: "radio", name: "comments", value, checked }), M[label]);
      const what = h("fieldset", null, h("legend", { text: M.delWhat }), radio("anonymize", "keep", true), radio("remove", "rm"));
      const del = box([["delPw", "password", "password", "current-password"]], M.delGo, async (body) => {
        body.comments = what.querySelector(":checked").value;
        await authed("POST", "/account/delete", body);
        signedOut(M.delDone);
      }, what, true);
      const download = h("button", { type: "button", class: "b", part: "button", text: M.data });
      const out = h("button", { type: "button", class: "b", part: "button", text: M.out });
      download.addEventListener("click", async () => {
        try {
          const { data } = await authed("GET", "/account/data");
          const a = h("a", { download: "my-comments-data.json",
            href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" })) });
          a.click();
          setTimeout(() => URL.revokeObjectURL(a.href), 1e4);
        } catch (e) { opened.say(errorText(e)); }
      });
      out.addEventListener("click", async () => {
        const token = get() && get().token;
        try { await api("POST", "/auth/logout", null, null, token); } catch { /* revoked or expired already */ }
        signedOut(M.outDone);
      });
      return [
        h("p", null, T.as + " ", who),
        name,
        h("div", { class: "acts" }, download, out),
        h("details", null, h("summary", { text: M.pw2 }), pw),
        h("details", null, h("summary", { text: M.del }), del),
      ];
    },
  };
  function signedOut(message) {
    const { say, reload } = opened;
    set(null);
    close(true);
    say(message);
    reload();
  }

  return { open, refresh };
}
