/* widget-server reader accounts: the sign-in, sign-up, "forgot password?" and account
 * panels, and the renewal of the session. An ES module that /widget.js imports only when
 * a reader asks to sign in or a stored session needs renewing, so readers who never sign
 * in never download it. It receives everything from the widget (no globals): the API
 * helpers, the strings of the reader's language, and the session getter and setter; the
 * session pair is kept by the widget in localStorage (no cookies). docs/accounts.md. */
"use strict";

// ---- strings of the panels: English here, the fallback; the widget fetches the reader's
//      language (/widget-i18n/account/LANG.json, from static/i18n/) alongside this module.
//      {n} is filled in. The keys are the language files' own: they stay as they are.
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
  orWith: "Or sign in with", inst: "Your instance (e.g. mastodon.social)", unavail: "(unavailable now)",
  blocked: "Your browser blocked the sign-in window.", openTab: "Open the sign-in page",
  ways: "Ways to sign in", link: "Link another:", unlink: "Remove", pwSet: "Set a password",
  bad: "Wrong e-mail address or password.",
};
// API field -> the key of the label that names it in an error message
const FIELD_LABELS = { email: "email", display_name: "name", password: "pw", current_password: "cur" };
const SESSION_KEY = "widget-server:session"; // the widget's key: read here only to see another tab's renewal
// The views, each with the key of its heading.
const HEADINGS = { signIn: "in", signUp: "up", forgotPassword: "fg", account: "me" };
// The inputs of the panels' forms: label and note are string keys, name is the API field.
const EMAIL = { label: "email", name: "email", type: "email", autocomplete: "username" };
const PASSWORD = { label: "pw", name: "password", type: "password", autocomplete: "current-password" };
const DISPLAY_NAME = { label: "name", name: "display_name", type: "text", autocomplete: "nickname", note: "nameNote" };
const NEW_PASSWORD = { label: "pw", name: "password", type: "password", autocomplete: "new-password", note: "pwNote" };
const CURRENT_PASSWORD = { label: "cur", name: "current_password", type: "password", autocomplete: "current-password" };
const CHANGED_PASSWORD = { ...NEW_PASSWORD, label: "newPw" };
const CONFIRM_PASSWORD = { ...PASSWORD, label: "delPw" };

// Class names (besides the widget's): pn panel · x close · sw view switches · lk link · acts account actions · rd radio · d danger.
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
.pn .acts label{display:flex;flex-direction:column;font-size:.875em;gap:2px}
.pn ul{margin:6px 0;padding-inline-start:1.2em}
`;

let styleSheet;

export default function accounts({ api, element, errorText, widgetStrings, accountStrings, language, getSession, setSession }) {
  const strings = { ...EN, ...accountStrings }; // a key the language file lacks (or the whole file) stays English
  const fill = (key, value) => strings[key].replace("{n}", value);
  // The open panel (a <section>), the post form it opened above, the widget's hooks for it
  // ({announce, reload}) and its view switcher.
  let panel = null, postForm = null, hooks = null, showView = null;
  let lastId = 0, renewing = null;

  // ---- the session: renewed before it ends, or after a 401 ---------------------------------
  // One renewal at a time (the refresh token works once). Rejects, and signs out, when the
  // session cannot be renewed; a network failure keeps the session for a later try.
  function refresh() {
    return renewing || (renewing = (async () => {
      const current = getSession();
      if (!current || !(Date.now() < Date.parse(current.refresh_expires_at))) {
        setSession(null);
        throw { status: 401, message: strings.expired };
      }
      try {
        setSession((await api("POST", "/auth/refresh", { body: { refresh_token: current.refresh_token } })).data);
      } catch (error) {
        if (error.status !== 401) throw error;
        let stored = null;
        try { stored = JSON.parse(localStorage.getItem(SESSION_KEY)); } catch { /* storage blocked */ }
        if (stored && stored.refresh_token !== current.refresh_token) return setSession(stored); // another tab renewed it
        setSession(null);
        throw { ...error, message: strings.expired };
      }
    })().finally(() => { renewing = null; }));
  }
  // A request as the signed-in reader (account changes, data download, deletion).
  async function asSignedIn(method, path, body) {
    if (Date.now() > Date.parse(getSession().token_expires_at) - 6e4) await refresh();
    try {
      return await api(method, path, { body, bearer: getSession().token });
    } catch (error) {
      if (error.status !== 401) throw error;
      await refresh();
      return api(method, path, { body, bearer: getSession().token });
    }
  }

  // ---- sign-in with a provider (docs/accounts.md): a popup on the comment server, whose page
  //      posts the session to this page's origin and closes; no cookie anywhere ------------------
  const SERVER = new URL(import.meta.url).origin;
  let providers = null;
  const listProviders = () => providers ||
    (providers = api("GET", "/auth/providers").then(({ data }) => data.providers, () => []));
  addEventListener("message", ({ origin, data }) => {
    if (origin !== SERVER || !data || !hooks) return; // only our server's popup page speaks here
    if (data.type === "widget-server:session") {
      const form = postForm, { announce } = hooks;
      saveSession(data.session);
      close();
      if (form) form.querySelector("textarea").focus();
      announce(fill("inDone", data.session.user.display_name));
    } else if (data.type === "widget-server:error") hooks.announce(data.message);
  });
  // A link for when the popup is blocked: a new tab that keeps its opener, so it reports back alike.
  const tabLink = (url) => element("a", { href: url, target: "_blank", rel: "opener", class: "lk", text: strings.openTab });
  function popup(url, note) { // opened from the click itself, or browsers block it
    const opened = window.open(url || "about:blank", "ws-sign-in", "popup,width=520,height=680");
    note.replaceChildren(...(opened ? [] : [strings.blocked, " ", url ? tabLink(url) : ""]));
    return opened;
  }
  async function startWith(provider, instance, linking, note) {
    if (!provider.available) return void (note.textContent = provider.label + " " + strings.unavail);
    if (instance && !instance.value.trim()) return instance.focus();
    const where = instance ? { instance: instance.value.trim() } : {};
    if (!linking) {
      const query = new URLSearchParams({ origin: location.origin, ...where });
      return void popup(`${SERVER}/auth/oidc/${provider.name}/start?${query}`, note);
    }
    const opened = popup(null, note);
    try {
      const { data } = await asSignedIn("POST", "/account/identities",
        { provider: provider.name, origin: location.origin, ...where });
      if (opened) opened.location = data.url;
      else note.append(tabLink(data.url));
    } catch (error) {
      if (opened) opened.close();
      note.textContent = errorText(error);
    }
  }
  function providerButtons(linking) {
    const box = element("div", { class: "acts" }), note = element("p", { class: "nt", role: "status", part: "notice" });
    const block = element("div", { hidden: true }, element("p", { text: strings[linking ? "link" : "orWith"] }), box, note);
    listProviders().then((list) => {
      const linked = linking ? (getSession().user.identities || []).map((i) => i.provider) : [];
      for (const provider of list) {
        if (linked.includes(provider.name) && !provider.instance) continue;
        const instance = provider.instance && element("input", { type: "text", name: "instance", part: "input",
          placeholder: "mastodon.social", autocomplete: "off", spellcheck: "false" });
        const button = element("button", { type: "button", class: "b", part: "button", text: provider.label,
          "aria-disabled": !provider.available && "true", title: provider.available ? null : strings.unavail });
        button.addEventListener("click", () => startWith(provider, instance, linking, note));
        box.append(instance ? element("label", null, strings.inst, instance) : "", button);
        block.hidden = false;
      }
    });
    return block;
  }
  function waysIn() { // the account's providers, each removable unless it is the last way in
    const list = element("ul"), note = element("p", { class: "er", role: "alert", part: "error" });
    const show = (user) => list.replaceChildren(...(user.identities || []).map((way) => element("li", null,
      way.provider + (way.handle ? " " + way.handle : "") + " ",
      element("button", { type: "button", class: "lk", text: strings.unlink, "data-id": way.id }))));
    list.addEventListener("click", async (event) => {
      const target = event.target.closest("[data-id]");
      if (!target) return;
      note.textContent = "";
      try {
        const { data } = await asSignedIn("DELETE", "/account/identities/" + target.dataset.id);
        saveSession({ ...getSession(), user: data.user });
        show(data.user);
      } catch (error) { note.textContent = errorText(error); }
    });
    show(getSession().user);
    return element("details", null, element("summary", { text: strings.ways }), list, note, providerButtons(true));
  }

  // ---- the panel: opened above the post form whose "Sign in" (or "Account") was pressed ----
  const accountButton = () => postForm && postForm.querySelector("[data-action=account]");
  function close(refocus) {
    if (!panel) return;
    panel.remove();
    panel = null;
    const button = accountButton();
    if (button) {
      button.setAttribute("aria-expanded", "false");
      if (refocus) button.focus();
    }
  }
  function open({ root, form, announce, reload }) {
    if (!styleSheet) (styleSheet = new CSSStyleSheet()).replaceSync(CSS);
    if (!root.adoptedStyleSheets.includes(styleSheet)) root.adoptedStyleSheets = [...root.adoptedStyleSheets, styleSheet];
    const again = panel && postForm === form;
    close(again);
    if (again) return; // the same button again: it toggles
    postForm = form;
    hooks = { announce, reload };
    const id = "ws-p" + ++lastId;
    const heading = element("h3", { id, tabindex: -1 });
    const body = element("div");
    panel = element("section", { class: "pn", part: "account-panel", "aria-labelledby": id },
      heading, element("button", { type: "button", class: "x", "aria-label": strings.close, title: strings.close, text: "×" }),
      body);
    panel.addEventListener("click", (event) => { if (event.target.closest(".x")) close(true); });
    panel.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      event.preventDefault();
      event.stopPropagation();
      close(true);
    });
    const built = {}; // each view is built once, so nothing typed is lost when switching back
    let email = ""; // the address typed so far goes along from view to view
    showView = (view) => {
      const typed = body.querySelector("input[name=email]");
      if (typed) email = typed.value;
      const children = built[view] || (built[view] = VIEWS[view]());
      heading.textContent = strings[HEADINGS[view]];
      body.replaceChildren(...children);
      const emailInput = body.querySelector("input[name=email]");
      if (emailInput && !emailInput.value) emailInput.value = email;
      const firstInput = body.querySelector("input:not([type=hidden])");
      (view === "account" ? heading : firstInput).focus();
    };
    form.before(panel);
    accountButton().setAttribute("aria-expanded", "true");
    showView(getSession() ? "account" : "signIn");
  }
  function saveSession(session) { // the widget re-renders its forms; keep this form's button marked open
    setSession(session);
    if (panel && accountButton()) accountButton().setAttribute("aria-expanded", "true");
  }
  function signedOut(message) {
    const { announce, reload } = hooks;
    setSession(null);
    close(true);
    announce(message);
    reload();
  }

  // ---- building blocks ------------------------------------------------------------------------
  // A form of labelled inputs, an error line and a notice; `send(body, fields)` sends it and may
  // return a notice. `extra` goes below the inputs; `danger` marks an irreversible action.
  function panelForm(inputs, submitText, send, extra, danger) {
    const fields = {};
    const rows = inputs.map(({ label, name, type, autocomplete, note }) => {
      const field = element("input", { id: "ws-p" + ++lastId, name, type, autocomplete, part: "input", required: true,
        maxlength: type === "password" ? 1000 : 254, spellcheck: "false" });
      fields[name] = field;
      return element("div", null, element("label", { for: field.id },
        strings[label], note && " ", note && element("small", { text: `(${strings[note]})` })), field);
    });
    const errorLine = element("p", { class: "er", role: "alert", part: "error" });
    const notice = element("p", { class: "nt", role: "status", part: "notice" });
    const submit = element("button", { class: danger ? "b d" : "b p", part: danger ? "button" : "button button-primary",
      text: submitText });
    const form = element("form", { novalidate: true, part: "form" },
      ...rows, extra, errorLine, element("div", { class: "bar" }, submit), notice);
    let busy = false;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (busy) return;
      busy = true;
      submit.setAttribute("aria-disabled", "true");
      errorLine.textContent = notice.textContent = "";
      const body = {};
      for (const name in fields) {
        fields[name].removeAttribute("aria-invalid");
        body[name] = fields[name].type === "password" ? fields[name].value : fields[name].value.trim();
      }
      try {
        notice.textContent = (await send(body, fields)) || "";
      } catch (error) {
        const labels = {};
        for (const name in error.fields || {}) {
          labels[name] = strings[FIELD_LABELS[name]];
          if (fields[name]) fields[name].setAttribute("aria-invalid", "true");
        }
        errorLine.textContent = errorText({ ...error, labels }); // in the reader's words; typed values stay
        const invalid = form.querySelector("[aria-invalid=true]");
        if (invalid) invalid.focus();
      } finally {
        busy = false;
        submit.removeAttribute("aria-disabled");
      }
    });
    return form;
  }
  const viewLink = (view, text) => element("button",
    { type: "button", class: "lk", text: text || strings[HEADINGS[view]], "data-view": view });
  function viewSwitches(...children) {
    const line = element("p", { class: "sw" }, ...children);
    line.addEventListener("click", (event) => {
      const target = event.target.closest("[data-view]");
      if (target) showView(target.dataset.view);
    });
    return line;
  }

  // ---- the views: sign in, sign up, forgot password, the account -----------------------------
  const VIEWS = {
    signIn: () => [
      panelForm([EMAIL, PASSWORD], strings.in, async (body) => {
        const { data } = await api("POST", "/auth/login", { body }).catch((error) => {
          throw error.status === 401 ? { message: strings.bad } : error; // not "sign in again"
        });
        const form = postForm, { announce } = hooks;
        saveSession(data);
        close();
        form.querySelector("textarea").focus();
        announce(fill("inDone", data.user.display_name));
      }),
      viewSwitches(viewLink("forgotPassword", strings.forgot), element("span", null, strings.new, " ", viewLink("signUp"))),
      providerButtons(false),
    ],
    signUp: () => [
      element("p", { text: strings.upNote }), // the password comes after the proof (the link's page)
      panelForm([EMAIL, DISPLAY_NAME], strings.upGo, async (body) => {
        // the page it came from: the "Your account is ready" page links back to it
        await api("POST", "/auth/signup", { body: { ...body, lang: language, return_url: location.href.split("#")[0] } });
        return strings.upDone;
      }),
      viewSwitches(viewLink("signIn", strings.back)),
    ],
    forgotPassword: () => [
      element("p", { text: strings.fgText }),
      panelForm([EMAIL], strings.fgGo, async (body) => {
        await api("POST", "/auth/forgot", { body: { ...body, lang: language } }); // the mail's language
        return strings.fgDone;
      }),
      viewSwitches(viewLink("signIn", strings.back)),
    ],
    account: () => {
      const displayName = element("b", { dir: "auto", text: getSession().user.display_name });
      const nameForm = panelForm([DISPLAY_NAME], strings.save, async (body) => {
        const { data } = await asSignedIn("PATCH", "/account", body);
        saveSession({ ...getSession(), user: data.user });
        displayName.textContent = data.user.display_name;
        hooks.reload();
        return strings.saved;
      });
      nameForm.elements.display_name.value = displayName.textContent;
      const hasPassword = getSession().user.password !== false; // an account from a provider may have none
      const passwordForm = panelForm(hasPassword ? [CURRENT_PASSWORD, CHANGED_PASSWORD] : [CHANGED_PASSWORD],
        strings.pwGo, async (body, fields) => {
          const { data } = await asSignedIn("PATCH", "/account", body);
          saveSession({ ...getSession(), user: data.user });
          for (const name in fields) fields[name].value = "";
          return strings.pwDone;
        });
      const radio = (value, label, checked) => element("label", { class: "rd" },
        element("input", { type: "radio", name: "comments", value, checked }), strings[label]);
      const commentsChoice = element("fieldset", null, element("legend", { text: strings.delWhat }),
        radio("anonymize", "keep", true), radio("remove", "rm"));
      const deleteForm = panelForm(hasPassword ? [CONFIRM_PASSWORD] : [], strings.delGo, async (body) => {
        body.comments = commentsChoice.querySelector(":checked").value;
        await asSignedIn("POST", "/account/delete", body);
        signedOut(strings.delDone);
      }, commentsChoice, true);
      const download = element("button", { type: "button", class: "b", part: "button", text: strings.data });
      const signOut = element("button", { type: "button", class: "b", part: "button", text: strings.out });
      download.addEventListener("click", async () => {
        try {
          const { data } = await asSignedIn("GET", "/account/data");
          const link = element("a", { download: "my-comments-data.json",
            href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" })) });
          link.click();
          setTimeout(() => URL.revokeObjectURL(link.href), 1e4);
        } catch (error) { hooks.announce(errorText(error)); }
      });
      signOut.addEventListener("click", async () => {
        const token = getSession() && getSession().token;
        try { await api("POST", "/auth/logout", { bearer: token }); } catch { /* revoked or expired already */ }
        signedOut(strings.outDone);
      });
      return [
        element("p", null, widgetStrings.as + " ", displayName),
        nameForm,
        element("div", { class: "acts" }, download, signOut),
        waysIn(),
        element("details", null, element("summary", { text: strings[hasPassword ? "pw2" : "pwSet"] }), passwordForm),
        element("details", null, element("summary", { text: strings.del }), deleteForm),
      ];
    },
  };

  // ---- the host site's own sign-in (docs/accounts.md, "SSO"): its signed token for a session.
  // A token already traded (kept beside the session) is not traded again on the next page view.
  const SSO_KEY = "widget-server:sso";
  async function sso(token) {
    if (!token) return setSession(null);
    let traded = null;
    try { traded = JSON.parse(localStorage.getItem(SSO_KEY)); } catch { /* storage blocked */ }
    if (getSession() && traded === token) return;
    try {
      const { data } = await api("POST", "/auth/sso", { body: { token } });
      try { localStorage.setItem(SSO_KEY, JSON.stringify(token)); } catch { /* private mode */ }
      setSession(data);
    } catch (error) {
      console.warn("[widget-server]", errorText(error));
    }
  }

  return { open, refresh, sso };
}
