/* personae dashboard: plain JavaScript, no dependencies, no network beyond this server.
 *
 * The API key the analyst types on the login page is kept in sessionStorage (this tab only,
 * never a cookie) and sent as `Authorization: Bearer` to the JSON API. Every value from the
 * server is put in the page with textContent (never innerHTML), so data cannot become markup.
 */
"use strict";

const KEY = "personae.apiKey";

function key() {
  return sessionStorage.getItem(KEY);
}

/** Build an element: el("a", {href: "/x"}, "text", child, ...). */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function fmt(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "number") {
    return Number.isInteger(value) ? value.toLocaleString("en") : value.toLocaleString("en", {maximumFractionDigits: 2});
  }
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) return value.length ? value.map(fmt).join(", ") : "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function when(value) {
  return value ? String(value).replace("T", " ").slice(0, 16) : "—";
}

function problem(message) {
  const box = document.getElementById("problem");
  if (!box) return;
  box.textContent = message;
  box.hidden = !message;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message + (body.hint ? " (" + body.hint + ")" : "") : "HTTP " + status);
    this.status = status;
    this.body = body;
  }
}

/** Call the JSON API with the stored key; a 401 sends the analyst back to the login page. */
async function api(path, options) {
  const opts = Object.assign({method: "GET"}, options || {});
  const headers = {Authorization: "Bearer " + (opts.key || key() || "")};
  let body;
  if (opts.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.json);
  }
  const res = await fetch(path, {method: opts.method, headers, body, credentials: "omit", cache: "no-store"});
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401 && !opts.key) {
      sessionStorage.removeItem(KEY);
      location.assign("/?expired=1");
    }
    throw new ApiError(res.status, data);
  }
  return data;
}

function busy(node, flag) {
  if (node) node.setAttribute("aria-busy", flag ? "true" : "false");
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function row(cells, header) {
  return el("tr", {}, ...cells.map((c, i) => (i === 0 && header ? el("th", {scope: "row"}, c) : el("td", {}, c))));
}

function facts(dl, pairs) {
  dl.replaceChildren();
  for (const [name, value] of pairs) dl.append(el("dt", {text: name}), el("dd", {}, value instanceof Node ? value : fmt(value)));
  busy(dl, false);
}

function chart(figure, data) {
  const caption = el("figcaption", {text: data.takeaway});
  figure.replaceChildren();
  if (data.image) figure.append(el("img", {src: data.image, alt: "Chart. " + data.takeaway}));
  figure.append(caption);
  busy(figure, false);
}

const segmentUrl = (name) => "/ui/segments/" + encodeURIComponent(name);
const customerUrl = (id) => "/ui/customers/" + encodeURIComponent(id);

// -- pages -------------------------------------------------------------------------------------
const pages = {
  login() {
    const form = document.getElementById("login-form");
    const input = document.getElementById("api-key");
    if (new URLSearchParams(location.search).has("expired")) problem("Your key was not accepted any more: sign in again.");
    input.focus();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const candidate = input.value.trim();
      if (!candidate) {
        input.setAttribute("aria-invalid", "true");
        problem("Enter an API key.");
        return;
      }
      try {
        await api("/v1/segments", {key: candidate});
      } catch (e) {
        input.setAttribute("aria-invalid", "true");
        problem("Sign-in failed: " + e.message);
        input.focus();
        return;
      }
      sessionStorage.setItem(KEY, candidate);
      location.assign("/ui/segments");
    });
  },

  async segments() {
    const table = document.getElementById("segment-table");
    const [live, built] = await Promise.all([api("/v1/segments"), api("/v1/dashboard/segments")]);
    const atBuild = Object.fromEntries(built.segments.map((s) => [s.name, s.members]));
    const rows = live.map((s) =>
      el("tr", {"data-name": s.name},
        el("th", {scope: "row"}, el("a", {href: segmentUrl(s.name)}, s.name)),
        el("td", {text: s.builtin ? "built-in" : "defined"}),
        el("td", {class: "num", text: s.live ? fmt(s.members) : "—"}),
        el("td", {class: "num", text: fmt(atBuild[s.name])}),
        el("td", {}, el("code", {text: s.rule}))));
    fill(table.tBodies[0], rows);
    busy(table, false);
    chart(document.getElementById("segment-chart"), built.chart);
    const filter = document.getElementById("segment-filter");
    filter.addEventListener("input", () => {
      const q = filter.value.trim().toLowerCase();
      let shown = 0;
      for (const tr of table.tBodies[0].rows) {
        tr.hidden = q !== "" && !tr.dataset.name.toLowerCase().includes(q);
        if (!tr.hidden) shown += 1;
      }
      document.getElementById("segment-caption").textContent = q ? shown + " segments match “" + filter.value + "”" : "Every segment: members now (live) and at the latest build";
    });
  },

  async segment() {
    const name = document.body.dataset.name;
    const dl = document.getElementById("segment-definition");
    const detail = await api("/v1/dashboard/segments/" + encodeURIComponent(name));
    facts(dl, [
      ["Name", detail.name],
      ["Rule", el("code", {text: detail.rule || "—"})],
      ["Description", detail.description],
      ["Kind", detail.builtin ? "built-in" : "defined"],
      ["Version", detail.version],
    ]);
    if (detail.rule) {
      // who matches on the current traits (the segment engine's batch count, as the CLI gives it)
      const now = await api("/v1/dashboard/rule-check", {method: "POST", json: {rule: detail.rule}});
      const box = document.getElementById("segment-matches");
      if (now.valid && now.members !== null) {
        box.dataset.members = String(now.members);
        box.textContent = fmt(now.members) + " customers match on the current traits (as of " + now.as_of + ").";
      }
    }
    fill(document.querySelector("#history-table tbody"), (detail.history || []).map((h) =>
      el("tr", {}, el("th", {scope: "row", text: h.as_of}), el("td", {class: "num", text: fmt(h.version)}),
        el("td", {class: "num", text: fmt(h.members)}), el("td", {class: "num", text: fmt(h.entered)}),
        el("td", {class: "num", text: fmt(h.exited)}))));
    const list = document.getElementById("members-list");
    const more = document.getElementById("members-more");
    let after = null;
    const page = async () => {
      let query = "?limit=100" + (after ? "&after=" + encodeURIComponent(after) : "");
      let data;
      try {
        data = await api("/v1/segments/" + encodeURIComponent(name) + "/members" + query);
      } catch (e) {
        if (e.status === 404) {
          document.getElementById("members-total").textContent = "Not evaluated live (" + e.message + ").";
          return;
        }
        throw e;
      }
      document.getElementById("members-total").textContent = fmt(data.total) + " members now.";
      for (const m of data.members) list.append(el("li", {}, el("a", {href: customerUrl(m.customer_id)}, m.customer_id)));
      after = data.next;
      more.hidden = !after;
    };
    more.addEventListener("click", () => page().catch((e) => problem(e.message)));
    await page();
  },

  customers() {
    const form = document.getElementById("customer-form");
    const input = document.getElementById("customer-id");
    input.focus();
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const id = input.value.trim();
      if (!id) {
        input.setAttribute("aria-invalid", "true");
        problem("Enter a customer id, email or phone.");
        return;
      }
      location.assign(customerUrl(id));
    });
  },

  async customer() {
    const given = document.body.dataset.customerId;
    const id = encodeURIComponent(given);
    const c = await api("/v1/customers/" + id);
    const cid = encodeURIComponent(c.customer_id);
    const [recs, nba, extra] = await Promise.all([
      api("/v1/customers/" + cid + "/recommendations?limit=5"),
      api("/v1/customers/" + cid + "/next-best-action"),
      api("/v1/dashboard/customers/" + cid),
    ]);
    document.querySelector("h1").textContent = "Customer " + c.customer_id;
    const p = c.profile || {};
    facts(document.getElementById("profile"), [
      ["Customer id", c.customer_id],
      ...Object.entries(p).filter(([k]) => k !== "customer_id").map(([k, v]) => [k.replaceAll("_", " "), v]),
      ["Identifiers", c.identifiers],
    ]);
    // next best action
    const nbaBox = document.getElementById("nba");
    const pairs = Object.entries(nba).filter(([k]) => k !== "customer_id");
    const dl = el("dl", {class: "facts"});
    facts(dl, pairs.map(([k, v]) => [k.replaceAll("_", " "), v]));
    nbaBox.replaceChildren(dl);
    busy(nbaBox, false);
    // consents
    const consents = Object.entries(c.consents || {});
    fill(document.getElementById("consents"), consents.length
      ? consents.map(([purpose, ok]) => el("li", {class: ok ? "yes" : "no"}, purpose + ": " + (ok ? "granted" : "not granted")))
      : [el("li", {text: "No consent recorded."})]);
    // recommendations
    const items = recs.items || [];
    const recList = document.getElementById("recommendations");
    fill(recList, items.length
      ? items.map((r) => el("li", {}, el("strong", {text: r.name || r.product_id}),
          r.category ? " · " + r.category : "", r.reason ? " — " + r.reason : ""))
      : [el("li", {text: "No recommendation."})]);
    if (recs.reason) recList.before(el("p", {class: "help", text: "Why these: " + recs.reason}));
    // segments with reasons
    fill(document.querySelector("#customer-segments tbody"), extra.segments.length
      ? extra.segments.map((s) => el("tr", {},
          el("th", {scope: "row"}, el("a", {href: segmentUrl(s.segment)}, s.segment)),
          el("td", {text: s.entered_at || "—"}),
          el("td", {}, el("code", {text: s.rule || "—"})),
          el("td", {text: Object.entries(s.because || {}).map(([k, v]) => k + " = " + fmt(v)).join("; ") || "—"})))
      : [el("tr", {}, el("td", {colspan: 4, text: "In no segment at the latest build."}))]);
    document.getElementById("live-segments").textContent = "Live now: " +
      (c.segments.length ? c.segments.map((s) => s.name).join(", ") : "no live segment") + ".";
    // timeline
    const tbody = document.querySelector("#timeline tbody");
    const draw = (source) => fill(tbody, extra.timeline.filter((t) => !source || t.source === source).map((t) =>
      el("tr", {"data-source": t.source}, el("td", {text: when(t.at)}), el("td", {text: t.kind}),
        el("td", {text: t.channel || "—"}), el("td", {text: t.detail || "—"}),
        el("td", {class: "num", text: fmt(t.value)}))));
    draw("");
    const select = document.getElementById("timeline-source");
    select.addEventListener("change", () => draw(select.value));
    // traits
    fill(document.querySelector("#traits tbody"), Object.entries(c.traits || {}).sort().map(([k, v]) =>
      row([k, fmt(v)], true)));
  },

  builder() {
    const form = document.getElementById("builder-form");
    const rule = document.getElementById("segment-rule");
    const status = document.getElementById("rule-status");
    const errors = document.getElementById("rule-errors");
    const result = document.getElementById("save-result");
    let asked = 0;
    let timer = null;
    let lastValid = false;

    const showErrors = (text, list) => {
      errors.replaceChildren();
      for (const e of list) {
        const box = el("div", {class: "rule-error"});
        box.append(el("p", {}, el("strong", {text: "Error"}),
          e.line ? " at line " + e.line + ", column " + e.column + ": " : ": ", e.message,
          e.hint ? " — " + e.hint : ""));
        if (e.position !== null && e.position !== undefined) {
          // the rule's text with the offending place marked, where the analyst typed it
          const at = Math.min(e.position, text.length);
          const end = Math.min(text.length, at + Math.max(1, (text.slice(at).match(/^[\w"]+/) || [""])[0].length));
          box.append(el("pre", {class: "rule-echo", "aria-label": "The rule with the problem marked"},
            text.slice(0, at), el("mark", {text: text.slice(at, end) || " "}), text.slice(end)));
        }
        if (e.suggestions && e.suggestions.length) {
          const ul = el("ul", {class: "suggestions", "aria-label": "Did you mean"});
          for (const s of e.suggestions) {
            const b = el("button", {type: "button", class: "link"}, "use “" + s + "”");
            b.addEventListener("click", () => {
              const word = (text.slice(e.position).match(/^\w+/) || [""])[0];
              rule.value = text.slice(0, e.position) + s + text.slice(e.position + word.length);
              rule.focus();
              check();
            });
            ul.append(el("li", {}, b));
          }
          box.append(ul);
        }
        errors.append(box);
      }
    };

    const check = async () => {
      const text = rule.value;
      const mine = ++asked;
      if (!text.trim()) {
        status.textContent = "Type a rule to see how many customers match.";
        showErrors(text, []);
        rule.removeAttribute("aria-invalid");
        lastValid = false;
        return;
      }
      status.textContent = "Checking…";
      let data;
      try {
        data = await api("/v1/dashboard/rule-check", {method: "POST", json: {rule: text}});
      } catch (e) {
        if (mine === asked) status.textContent = "Could not check the rule: " + e.message;
        return;
      }
      if (mine !== asked) return; // a newer keystroke's answer will come
      lastValid = data.valid;
      if (data.valid) {
        rule.removeAttribute("aria-invalid");
        showErrors(text, []);
        status.dataset.members = data.members === null ? "" : String(data.members);
        status.textContent = data.members === null
          ? "Valid rule. Counts appear after the first `personae build`."
          : fmt(data.members) + " customers match now (traits as of " + data.as_of + ").";
      } else {
        rule.setAttribute("aria-invalid", "true");
        delete status.dataset.members;
        status.textContent = "The rule has a problem (shown below).";
        showErrors(text, data.errors);
      }
    };

    rule.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(check, 250);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      result.textContent = "";
      const name = document.getElementById("segment-name");
      if (!name.value.trim()) {
        name.setAttribute("aria-invalid", "true");
        result.textContent = "Give the segment a name.";
        name.focus();
        return;
      }
      name.removeAttribute("aria-invalid");
      clearTimeout(timer);
      await check();
      if (!lastValid) {
        rule.focus();
        return;
      }
      try {
        const saved = await api("/v1/segments", {method: "POST", json: {
          name: name.value.trim(), rule: rule.value,
          description: document.getElementById("segment-description").value}});
        result.replaceChildren("Saved: ", el("a", {href: segmentUrl(saved.name || name.value.trim())},
          (saved.name || name.value.trim()) + " (" + (saved.action || "saved") + ", version " + fmt(saved.version) + ")"));
      } catch (e) {
        result.textContent = "Not saved: " + e.message;
      }
    });
    rule.focus();
  },

  async impact() {
    const data = await api("/v1/dashboard/impact");
    const figure = document.getElementById("impact-chart");
    if (data.chart) chart(figure, data.chart);
    else chart(figure, {image: null, takeaway: data.absent});
    const box = document.getElementById("impact-reports");
    for (const r of data.reports) {
      const table = el("table", {}, el("caption", {text: r.playbook + ": " + r.verdict}),
        el("thead", {}, el("tr", {}, ...["Metric", "Treated", "Held out", "Difference", "Interval", "Direction"].map((h) => el("th", {scope: "col", text: h})))),
        el("tbody", {}, ...(r.effects || []).map((e) => el("tr", {},
          el("th", {scope: "row", text: e.metric}), el("td", {class: "num", text: fmt(e.treatment)}),
          el("td", {class: "num", text: fmt(e.control)}), el("td", {class: "num", text: fmt(e.difference)}),
          el("td", {class: "num", text: e.low === null ? "—" : fmt(e.low) + " … " + fmt(e.high)}),
          el("td", {text: e.direction || "—"})))));
      box.append(el("section", {}, el("h2", {text: r.playbook}), table));
    }
  },

  async journeys() {
    const within = document.getElementById("journey-within");
    const to = document.getElementById("journey-to");
    const funnel = document.getElementById("journey-funnel");
    const paths = document.getElementById("journey-paths");
    // the address carries the choice (?within=14&to=repeat), so a view can be shared or bookmarked
    const asked = new URLSearchParams(location.search);
    if (asked.get("within")) within.value = asked.get("within");
    if (asked.get("to")) to.value = asked.get("to");
    if (!within.value) within.value = "7";
    if (!to.value) to.value = "order";
    let latest = 0;
    const load = async () => {
      const ticket = ++latest;
      const query = new URLSearchParams({within: within.value, to: to.value});
      busy(funnel, true);
      busy(paths, true);
      const data = await api("/v1/dashboard/journeys?" + query);
      if (ticket !== latest) return; // a newer choice is on its way: do not draw an older answer
      chart(funnel, data.funnel);
      chart(paths, data.paths);
      funnel.dataset.within = String(data.within_days);
      paths.dataset.to = data.to;
      document.getElementById("paths-h").textContent = "Paths to " + to.options[to.selectedIndex].text;
      history.replaceState(null, "", "?" + query);
      problem("");
    };
    const reload = () => load().catch((e) => problem(e.message));
    within.addEventListener("change", reload);
    to.addEventListener("change", reload);
    document.getElementById("journey-form").addEventListener("submit", (event) => event.preventDefault());
    await load();
  },
};

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page !== "login" && !key()) {
    location.assign("/");
    return;
  }
  const out = document.getElementById("logout");
  if (out) out.addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    location.assign("/");
  });
  const run = pages[page];
  if (!run) return;
  Promise.resolve()
    .then(() => run())
    .then(() => document.body.setAttribute("data-ready", "true"))
    .catch((e) => {
      problem(e.message);
      document.body.setAttribute("data-ready", "error");
    });
});
