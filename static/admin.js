// The moderation page of widget-server. Plain JS, no build step, no globals.
// Everything readers wrote goes into the page with textContent, never as HTML.
(() => {
  "use strict";

  const API = "/api/v1/admin";
  const STORE = "widget-admin-token";   // sessionStorage: this tab only
  const STATE_LABELS = { published: "published", pending: "held", spam: "spam", deleted: "deleted" };
  const $ = (id) => document.getElementById(id);

  let token = null;
  let me = null;                       // GET /me: the token's name, site and role, and the sites it sees
  let site = "";                       // the site the lists show ("": every site, global tokens only)
  let recentCursor = null;
  let threadsCursor = null;
  let auditCursor = null;
  let current = null;                  // the comment item j/k moved to

  // --- small helpers -----------------------------------------------------------------------

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.startsWith("data-") || key.startsWith("aria-") || key === "role" || key === "for") {
        node.setAttribute(key, value);
      } else node[key] = value;
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function say(message, isError = false) {
    const status = $("status");
    status.textContent = message;
    status.classList.toggle("error", isError);
  }

  function when(iso) {
    return iso ? iso.replace("T", " ").replace(/:\d\dZ$/, "") : "";
  }

  function safeHref(url) {
    return /^https?:\/\//i.test(url || "") ? url : null;
  }

  class AuthError extends Error {}

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${token}` };
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(API + path, init);
    if (response.status === 204) return null;
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) throw new AuthError("This admin token is not valid (or was revoked).");
    if (!response.ok) {
      const message = (data.error && data.error.message) || `request failed (${response.status})`;
      throw new Error(message);
    }
    return data;
  }

  async function run(task) {
    try {
      return await task();
    } catch (error) {
      if (error instanceof AuthError) {
        signOut(error.message);
      } else {
        say(error.message, true);
      }
      return undefined;
    }
  }

  // The lists ask for the chosen site; a site's token always sees its own, so it never needs to.
  function scoped(params) {
    if (site) params.set("site", site);
    return params;
  }

  // --- signing in and out ------------------------------------------------------------------------

  // Show only what this token may use: the site switcher for a global token, the settings and
  // the moderators' tokens for a global token or a site's owner.
  function applyRole() {
    const global = me.token.role === "global";
    const owner = global || me.token.role === "owner";
    const where = global ? "every site" : `site ${me.token.site}`;
    $("whoami").textContent = `${me.token.name}: ${global ? "global admin" : me.token.role} of ${where}.`;
    $("site-picker").hidden = !global;
    if (global) {
      const picker = $("site-switch");
      picker.replaceChildren(el("option", { value: "", text: "All sites" }),
        ...me.sites.map((name) => el("option", { value: name, text: name })));
      picker.value = me.sites.includes(site) ? site : "";
      site = picker.value;
    } else {
      site = "";
    }
    $("team").hidden = !owner;
    $("team-link").hidden = !owner;
    $("ban-where").hidden = !global;
    refreshSiteParts();
  }

  // The parts that depend on the chosen site: the settings (one site only) and the ban scope.
  function refreshSiteParts() {
    const global = me.token.role === "global";
    const settingsSite = global ? site : me.token.site;
    const settingsShown = Boolean(settingsSite) && me.token.role !== "moderator";
    $("settings").hidden = !settingsShown;
    $("settings-link").hidden = !settingsShown;
    $("settings-site").textContent = settingsSite || "";
    $("token-role-field").hidden = !(global && site);
    $("ban-here").textContent = site ? `this site (${site})` : "this site";
    $("ban-here").disabled = global && !site;
    if (global && !site) $("ban-scope").value = "";
  }

  async function signIn(value) {
    token = value;
    try {
      me = await api("GET", "/me");
    } catch (error) {
      token = null;
      $("signin-error").textContent = error instanceof AuthError
        ? "That token is not valid. Check it, or create a new one on the server."
        : error.message;
      $("token").focus();
      return;
    }
    sessionStorage.setItem(STORE, value);
    $("signin").hidden = true;
    $("app").hidden = false;
    $("session").hidden = false;
    $("signin-error").textContent = "";
    $("token").value = "";
    applyRole();
    await refreshAll();
    $("queue-title").focus();
  }

  function signOut(message) {
    token = null;
    me = null;
    sessionStorage.removeItem(STORE);
    $("app").hidden = true;
    $("session").hidden = true;
    $("signin").hidden = false;
    $("signin-error").textContent = message || "";
    $("token").focus();
  }

  // --- comments ------------------------------------------------------------------------------

  function commentItem(c) {
    const label = `#${c.number} by ${c.author.name || "Anonymous"}`;
    const box = el("input", { type: "checkbox", class: "pick", value: String(c.id),
      "aria-label": `Select comment ${label}` });

    const where = el("span", { class: "where" }, "on ");
    const href = safeHref(c.url);
    where.append(href ? el("a", { href, text: c.title || c.url, rel: "noopener noreferrer", target: "_blank" })
      : el("span", { text: c.title || c.url }));
    // Tags after a space: read aloud and copied as words of their own, not glued to the title.
    if (c.thread_locked) where.append(" ", el("span", { class: "tag", text: "locked" }));
    // Across every site (a global token, "All sites"), each comment says whose it is.
    if (me && me.token.role === "global" && !site && c.site) where.append(" ", el("span", { class: "tag", text: `site ${c.site}` }));

    const meta = el("p", { class: "meta" },
      el("strong", { text: c.author.name || "Anonymous" }),
      c.email ? el("span", { class: "email", text: c.email }) : null,
      el("span", { class: `state state-${c.state}`, text: STATE_LABELS[c.state] || c.state }),
      c.pinned ? el("span", { class: "tag", text: "pinned" }) : null,
      el("time", { dateTime: c.created_at, text: when(c.created_at) }),
      el("span", { text: `#${c.number}` }),
      where);

    const parts = [meta];
    if (c.parent) {
      parts.push(el("p", { class: "context" },
        el("span", { text: `In reply to #${c.parent.number} ${c.parent.author || "Anonymous"}: ` }),
        el("q", { text: c.parent.excerpt || `(${STATE_LABELS[c.parent.state] || c.parent.state})` })));
    }
    if (c.held_reason && (c.state === "pending" || c.state === "spam")) {
      parts.push(el("p", { class: "reason", text: `Why ${STATE_LABELS[c.state]}: ${c.held_reason}` }));
    }
    if (c.reports && c.reports.length) { // readers' reports, newest first, each reason with its note
      parts.push(el("p", { class: "reason", text: `Reported by ${c.reports.length} reader${c.reports.length > 1 ? "s" : ""}: `
        + c.reports.map((r) => r.reason.replace("_", " ") + (r.note ? ` (\u201c${r.note}\u201d)` : "")).join("; ") }));
    }
    parts.push(el("p", { class: "text", text: c.text || "(no text: deleted)" }));
    if (c.author.website) parts.push(el("p", { class: "hint url", text: `Website: ${c.author.website}` }));
    parts.push(el("p", { class: "hint", text: `Comment id ${c.id} · address hash ${(c.ip_hash || "").slice(0, 12)}` }));

    const actions = el("div", { class: "actions", role: "group", "aria-label": `Actions for comment ${label}` });
    const action = (name, text, cls) => el("button", { type: "button", "data-action": name, text, class: cls,
      "aria-label": `${text} comment ${label}` });
    if (c.state !== "published" && c.state !== "deleted") actions.append(action("approve", "Approve"));
    if (c.state !== "spam" && c.state !== "deleted") actions.append(action("spam", "Spam"));
    if (c.state !== "deleted") actions.append(action("delete", "Delete", "danger"));
    if (c.state === "published" && c.parent_id === null) {
      actions.append(c.pinned ? action("unpin", "Unpin") : action("pin", "Pin"));
    }
    if (c.state !== "deleted") actions.append(action("ban", "Ban…"));
    actions.append(action(c.thread_locked ? "unlock" : "lock", c.thread_locked ? "Unlock thread" : "Lock thread"));

    const item = el("li", { class: `comment is-${c.state}`, tabIndex: -1, "data-id": String(c.id),
      "data-thread": String(c.thread_id), "aria-label": `Comment ${label}, ${STATE_LABELS[c.state] || c.state}` },
      el("div", { class: "pick-cell" }, box), el("div", { class: "body" }, ...parts, actions));
    return item;
  }

  function fill(listId, comments, append) {
    const list = $(listId);
    if (!append) list.replaceChildren();
    for (const c of comments) list.append(commentItem(c));
    const empty = $(listId.replace("-list", "-empty"));
    if (empty) empty.hidden = list.children.length > 0;
  }

  function searchQuery() {
    const params = scoped(new URLSearchParams({ limit: "25" }));
    const q = $("search-q").value.trim();
    const state = $("search-state").value;
    const url = $("search-url").value.trim();
    if (q) params.set("q", q);
    if (state === "reported") params.set("reported", "1"); // any state, with readers' reports
    else if (state) params.set("state", state);
    if (url) params.set("url", url);
    return params;
  }

  async function loadQueue() {
    const data = await api("GET", `/comments?${scoped(new URLSearchParams({ state: "pending", limit: "100" }))}`);
    fill("queue-list", data.comments, false);
    $("queue-badge").textContent = String(data.comments.length) + (data.next_cursor ? "+" : "");
  }

  async function loadRecent(append = false) {
    const params = searchQuery();
    if (append && recentCursor) params.set("cursor", recentCursor);
    const data = await api("GET", `/comments?${params}`);
    fill("recent-list", data.comments, append);
    recentCursor = data.next_cursor;
    $("recent-more").hidden = !recentCursor;
  }

  // --- the chart ---------------------------------------------------------------------------------

  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function drawChart(stats) {
    const days = stats.days;
    const totals = days.map((d) => d.published + d.pending + d.spam + d.deleted);
    const sum = totals.reduce((a, b) => a + b, 0);
    const max = Math.max(1, ...totals);
    const width = 600, height = 120, gap = 2, bottom = 16;
    const bar = width / days.length;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": "chart-title chart-desc",
      class: "bars" });
    chart.append(svg("title", { id: "chart-title" }, `Comments per day, last ${days.length} days`));
    chart.append(svg("desc", { id: "chart-desc" },
      `${sum} comments in all; the busiest day had ${Math.max(0, ...totals)}.`));
    days.forEach((d, i) => {
      const x = i * bar + gap / 2;
      let y = height - bottom;
      for (const state of ["published", "pending", "spam", "deleted"]) {
        const h = ((height - bottom - 4) * d[state]) / max;
        if (h <= 0) continue;
        y -= h;
        const rect = svg("rect", { x: x.toFixed(1), y: y.toFixed(1), width: Math.max(1, bar - gap).toFixed(1),
          height: h.toFixed(1), class: `bar-${state}` });
        rect.append(svg("title", {}, `${d.date}: ${d[state]} ${STATE_LABELS[state]}`));
        chart.append(rect);
      }
    });
    chart.append(svg("text", { x: 0, y: height - 2, class: "axis" }, days[0].date));
    chart.append(svg("text", { x: width, y: height - 2, class: "axis", "text-anchor": "end" }, days[days.length - 1].date));
    $("chart").replaceChildren(chart);
    const t = stats.totals;
    $("totals").textContent = `All time: ${t.published} published, ${t.pending} held, ${t.spam} spam, ${t.deleted} deleted.`;
  }

  // --- threads, bans, audit ------------------------------------------------------------------------

  async function loadThreads(append = false) {
    const params = scoped(new URLSearchParams({ limit: "20" }));
    if (append && threadsCursor) params.set("cursor", threadsCursor);
    const data = await api("GET", `/threads?${params}`);
    const body = $("threads-body");
    if (!append) body.replaceChildren();
    for (const t of data.threads) {
      const href = safeHref(t.url);
      const page = href ? el("a", { href, text: t.title || t.url, rel: "noopener noreferrer", target: "_blank" })
        : el("span", { text: t.title || t.url });
      const button = el("button", { type: "button", "data-thread-action": t.locked ? "unlock" : "lock",
        "data-thread": String(t.id), text: t.locked ? "Unlock" : "Lock",
        "aria-label": `${t.locked ? "Unlock" : "Lock"} ${t.title || t.url}` });
      body.append(el("tr", {}, el("td", { class: "wide url" }, page),
        el("td", { class: "num", "data-label": "Published", text: String(t.published) }),
        el("td", { class: "num", "data-label": "Held", text: String(t.pending) }),
        el("td", { "data-label": "Status", text: t.locked ? "locked" : "open" }),
        el("td", { class: "act" }, button)));
    }
    threadsCursor = data.next_cursor;
    $("threads-more").hidden = !threadsCursor;
  }

  async function loadBans() {
    const data = await api("GET", `/bans?${scoped(new URLSearchParams())}`);
    const body = $("bans-body");
    body.replaceChildren();
    for (const b of data.bans) {
      const until = b.expires_at ? when(b.expires_at) : "forever";
      body.append(el("tr", { class: b.active ? "" : "expired" },
        el("td", { "data-label": "Kind", text: b.kind === "ip" ? "address" : "e-mail" }),
        el("td", { class: "wide url", "data-label": "Value" }, el("span", { class: "mono", text: b.value })),
        el("td", { class: "wide", "data-label": "Reason", text: b.reason }),
        el("td", { "data-label": "Until", text: b.active ? until : `${until} (expired)` }),
        el("td", { "data-label": "Where", text: b.site || "every site" }),
        el("td", { "data-label": "By", text: b.created_by }),
        el("td", { class: "act" }, el("button", { type: "button", "data-ban": String(b.id), text: "Lift",
          "aria-label": `Lift ban ${b.id} on ${b.kind === "ip" ? "address" : "e-mail"} ${b.value}` }))));
    }
  }

  function describe(details) {
    const parts = [];
    if (details.from && details.to) parts.push(`${details.from} → ${details.to}`);
    if (details.number) parts.push(`#${details.number}`);
    if (details.url) parts.push(details.url);
    if (details.kind) parts.push(details.kind === "ip" ? "address" : "e-mail");
    if (details.reason) parts.push(`“${details.reason}”`);
    if (details.expires_at) parts.push(`until ${when(details.expires_at)}`);
    return parts.join(" · ");
  }

  async function loadAudit(append = false) {
    const params = scoped(new URLSearchParams({ limit: "25" }));
    if (append && auditCursor) params.set("cursor", auditCursor);
    const data = await api("GET", `/audit?${params}`);
    const body = $("audit-body");
    if (!append) body.replaceChildren();
    for (const e of data.entries) {
      body.append(el("tr", {}, el("td", { class: "when" }, el("time", { dateTime: e.at, text: when(e.at) })),
        el("td", { "data-label": "Who", text: e.actor }), el("td", { "data-label": "Site", text: e.site || "every site" }),
        el("td", { "data-label": "Action", text: e.action }),
        el("td", { "data-label": "On", text: e.target }),
        el("td", { class: "wide url", text: describe(e.details) })));
    }
    auditCursor = data.next_cursor;
    $("audit-more").hidden = !auditCursor;
  }

  // --- moderators' tokens and the site's settings (global tokens and site owners) ------------------

  async function loadTokens() {
    const data = await api("GET", `/tokens?${scoped(new URLSearchParams())}`);
    const body = $("tokens-body");
    body.replaceChildren();
    for (const t of data.tokens) {
      const mayRevoke = !t.revoked && (me.token.role === "global" || t.role === "moderator");
      body.append(el("tr", { class: t.revoked ? "expired" : "" },
        el("td", { class: "wide", "data-label": "Name", text: t.name }),
        el("td", { "data-label": "Role", text: t.role }),
        el("td", { "data-label": "Site", text: t.site || "every site" }),
        el("td", { "data-label": "Last used", text: t.last_used_at ? when(t.last_used_at) : "never" }),
        el("td", { class: "act" }, mayRevoke ? el("button", { type: "button", "data-revoke": String(t.id),
          text: "Revoke", "aria-label": `Revoke token ${t.name}` }) : el("span", { text: t.revoked ? "revoked" : "" }))));
    }
  }

  async function createToken() {
    const name = $("token-name").value.trim();
    if (!name) {
      say("Give the new token a name: who will use it.", true);
      $("token-name").focus();
      return;
    }
    const body = { name };
    const forSite = me.token.role === "global" ? site : me.token.site;
    if (forSite) {
      body.site = forSite;
      body.role = me.token.role === "global" ? $("token-role").value : "moderator";
    }
    const data = await run(() => api("POST", "/tokens", body));
    if (!data) return;
    $("token-form").reset();
    $("token-secret").textContent = data.secret;
    $("token-made").hidden = false;
    await afterChange(`Created token ${data.token.name} (${data.token.role}${data.token.site ? ` of ${data.token.site}` : ""}). Copy it now: it is shown only once.`);
  }

  function settingsSite() {
    return me.token.role === "global" ? site : me.token.site;
  }

  async function loadSettings() {
    const data = await api("GET", `/sites/${encodeURIComponent(settingsSite())}`);
    const shown = data.settings || {};
    const list = $("settings-list");
    list.replaceChildren();
    for (const [key, value] of Object.entries(shown)) {
      list.append(el("dt", { text: key }), el("dd", { text: String(value) }));
    }
    $("settings-empty").hidden = Object.keys(shown).length > 0;
  }

  async function saveSettings() {
    const key = $("setting-key").value.trim();
    const value = $("setting-value").value.trim();
    if (!key) {
      say("Name the setting to change (for example moderation).", true);
      $("setting-key").focus();
      return;
    }
    const body = value ? { settings: { [key]: value } } : { reset: [key] };
    const done = await run(() => api("PATCH", `/sites/${encodeURIComponent(settingsSite())}`, body));
    if (!done) return;
    $("settings-form").reset();
    await afterChange(value ? `Set ${key} to ${value}.` : `${key} is the server's value again.`);
  }

  async function refreshAll() {
    await run(async () => {
      const owner = me.token.role !== "moderator";
      const [stats] = await Promise.all([api("GET", `/stats?${scoped(new URLSearchParams({ days: "30" }))}`),
        loadQueue(), loadRecent(), loadThreads(), loadBans(), loadAudit(),
        owner ? loadTokens() : null, $("settings").hidden ? null : loadSettings()]);
      drawChart(stats);
    });
  }

  // --- actions --------------------------------------------------------------------------------------

  function itemsInOrder() {
    return [...document.querySelectorAll("li.comment")];
  }

  function focusItem(item) {
    if (!item) return;
    if (current) current.classList.remove("current");
    current = item;
    item.classList.add("current");
    item.focus();
  }

  // Reload what changed, put the focus back where the admin was, then say what happened.
  async function afterChange(message, listId, index) {
    await refreshAll();
    const list = listId && $(listId);
    if (list && list.children.length) {
      focusItem(list.children[Math.min(index, list.children.length - 1)]);
    } else if (listId) {
      $(listId === "queue-list" ? "queue-title" : "recent-title").focus();
    }
    say(message);
  }

  async function act(item, action) {
    const id = Number(item.dataset.id);
    const list = item.parentElement;
    const index = [...list.children].indexOf(item);
    const label = item.getAttribute("aria-label");
    if (action === "delete" && !window.confirm(`Delete ${label}? Its text is erased for good.`)) return;
    if (action === "ban") {
      $("ban-comment").value = String(id);
      $("ban-kind").focus();
      say(`Choose how to ban the author of comment ${id}, then press Ban.`);
      return;
    }
    const done = await run(async () => {
      if (action === "delete") await api("DELETE", `/comments/${id}`);
      else if (action === "lock" || action === "unlock") {
        await api("POST", `/threads/${item.dataset.thread}/${action}`, {});
      } else await api("POST", `/comments/${id}/${action}`, {});
      return true;
    });
    const past = { approve: "Approved", spam: "Marked as spam", delete: "Deleted", pin: "Pinned", unpin: "Unpinned",
      lock: "Locked the thread of", unlock: "Unlocked the thread of" }[action];
    if (done) await afterChange(`${past} comment ${id}.`, list.id, index);
  }

  async function bulk(listId, action) {
    const ids = [...$(listId).querySelectorAll("input.pick:checked")].map((box) => Number(box.value));
    if (!ids.length) {
      say("Select some comments first (x, or the checkboxes).", true);
      return;
    }
    if (action === "delete" && !window.confirm(`Delete ${ids.length} comments? Their text is erased for good.`)) return;
    const data = await run(() => api("POST", "/comments/bulk", { action, ids }));
    if (data) await afterChange(`${action === "delete" ? "Deleted" : action === "approve" ? "Approved" : "Marked as spam"}: ${data.affected} of ${ids.length}.`, listId, 0);
  }

  // --- wiring ---------------------------------------------------------------------------------------

  function typing(target) {
    return target instanceof HTMLElement && (target.isContentEditable
      || ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName) && target.type !== "checkbox");
  }

  function onKey(event) {
    if (!token || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const items = itemsInOrder();
    const here = event.target instanceof Element && event.target.closest("li.comment");
    if (here) current = here;
    const at = current ? items.indexOf(current) : -1;
    switch (event.key) {
      case "j":
        focusItem(items[Math.min(at + 1, items.length - 1)]);
        break;
      case "k":
        focusItem(items[Math.max(at - 1, 0)]);
        break;
      case "a": case "s": case "d": {
        if (!current || !current.isConnected) return;
        const name = { a: "approve", s: "spam", d: "delete" }[event.key];
        if (!current.querySelector(`[data-action="${name}"]`)) {
          say(`Comment ${current.dataset.id} cannot be ${name === "spam" ? "marked as spam" : name + "d"} now.`, true);
          break;
        }
        act(current, name);
        break;
      }
      case "x": {
        if (!current) return;
        const box = current.querySelector("input.pick");
        box.checked = !box.checked;
        break;
      }
      case "/":
        $("search-q").focus();
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  function init() {
    $("signin-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("token").value.trim();
      if (!value) {
        $("signin-error").textContent = "Enter an admin token.";
        $("token").focus();
        return;
      }
      signIn(value);
    });
    $("sign-out").addEventListener("click", () => signOut("Signed out."));
    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      run(() => loadRecent(false)).then(() => say("Search updated."));
    });
    $("recent-more").addEventListener("click", () => run(() => loadRecent(true)));
    $("threads-more").addEventListener("click", () => run(() => loadThreads(true)));
    $("audit-more").addEventListener("click", () => run(() => loadAudit(true)));

    document.addEventListener("click", (event) => {
      const target = event.target instanceof Element ? event.target : null;
      if (!target) return;
      const actionButton = target.closest("[data-action]");
      if (actionButton) {
        const item = actionButton.closest("li.comment");
        current = item;
        act(item, actionButton.dataset.action);
        return;
      }
      const bulkButton = target.closest("[data-bulk]");
      if (bulkButton) {
        bulk(bulkButton.closest(".bulk").dataset.list, bulkButton.dataset.bulk);
        return;
      }
      const threadButton = target.closest("[data-thread-action]");
      if (threadButton) {
        const action = threadButton.dataset.threadAction;
        run(() => api("POST", `/threads/${threadButton.dataset.thread}/${action}`, {}))
          .then((data) => data && afterChange(`${action === "lock" ? "Locked" : "Unlocked"} ${data.thread.url}.`));
        return;
      }
      const revokeButton = target.closest("[data-revoke]");
      if (revokeButton) {
        const id = revokeButton.dataset.revoke;
        run(() => api("DELETE", `/tokens/${id}`).then(() => true))
          .then((ok) => ok && afterChange(`Revoked token ${id}.`));
        return;
      }
      const banButton = target.closest("[data-ban]");
      if (banButton) {
        run(() => api("DELETE", `/bans/${banButton.dataset.ban}`).then(() => true))
          .then((ok) => ok && afterChange(`Lifted ban ${banButton.dataset.ban}.`));
      }
    });
    document.addEventListener("change", (event) => {
      const target = event.target;
      if (target instanceof HTMLInputElement && target.classList.contains("select-all")) {
        for (const box of $(target.dataset.list).querySelectorAll("input.pick")) box.checked = target.checked;
      }
    });
    document.addEventListener("focusin", (event) => {
      const item = event.target instanceof Element && event.target.closest("li.comment");
      if (item && item !== current) {
        if (current) current.classList.remove("current");
        current = item;
        item.classList.add("current");
      }
    });
    $("ban-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const commentId = Number($("ban-comment").value);
      if (!Number.isInteger(commentId) || commentId < 1) {
        say("Give the id of a comment by the poster to ban.", true);
        $("ban-comment").focus();
        return;
      }
      const duration = $("ban-duration").value;
      const body = { kind: $("ban-kind").value, comment_id: commentId, reason: $("ban-reason").value.trim(),
        expires_in: duration ? Number(duration) : null };
      if (me.token.role === "global") body.site = $("ban-scope").value && site ? site : null;
      run(() => api("POST", "/bans", body)).then((data) => {
        if (!data) return;
        $("ban-form").reset();
        afterChange(`Banned the ${body.kind === "ip" ? "address" : "e-mail"} of comment ${commentId}'s author.`);
      });
    });
    $("site-switch").addEventListener("change", (event) => {
      site = event.target.value;
      recentCursor = threadsCursor = auditCursor = null;
      refreshSiteParts();
      refreshAll().then(() => say(site ? `Showing site ${site}.` : "Showing every site."));
    });
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      createToken();
    });
    $("settings-form").addEventListener("submit", (event) => {
      event.preventDefault();
      saveSettings();
    });
    document.addEventListener("keydown", onKey);

    const saved = sessionStorage.getItem(STORE);
    if (saved) signIn(saved);
    else $("token").focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
