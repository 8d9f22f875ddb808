/* personae dashboard: plain JavaScript, no dependencies, no network beyond this server.
 *
 * The API key the analyst types on the login page is kept in sessionStorage (this tab only,
 * never a cookie) and sent as `Authorization: Bearer` to the JSON API. Every value from the
 * server is put in the page with textContent (never innerHTML), so data cannot become markup.
 */
"use strict";

/* The contract with the API: for each endpoint the dashboard calls (method and OpenAPI path), every
 * field of the answer it reads. `a.b` is a key inside a key, `[]` a list's items, `{}` a map
 * whose keys are data (profile, traits): anything in it may be read.
 * tests/unit/api/test_dashboard_contract.py checks each field against the API's OpenAPI schema,
 * so a key renamed on either side fails a test; and every answer is handed to the pages
 * through guard(), which reports (console.error, which fails the browser tests) any read of
 * a field not declared here. Keep this block strict JSON: the test parses it.
 */
// READS:begin
const READS = {
  "GET /v1/segments": ["[].name", "[].builtin", "[].live", "[].members", "[].rule"],
  "POST /v1/segments": ["name", "action", "version"],
  "GET /v1/segments/{name}/members": ["total", "next", "members[].customer_id"],
  "GET /v1/dashboard/segments": ["segments[].name", "segments[].members", "chart.image", "chart.takeaway"],
  "GET /v1/dashboard/segments/{name}": [
    "name", "rule", "description", "builtin", "version",
    "history[].as_of", "history[].version", "history[].members", "history[].entered", "history[].exited"
  ],
  "POST /v1/dashboard/rule-check": [
    "valid", "members", "as_of", "errors[].message", "errors[].hint", "errors[].line",
    "errors[].column", "errors[].position", "errors[].suggestions"
  ],
  "GET /v1/dashboard/rule-names": ["names[].name", "names[].kind", "properties[].name", "properties[].types"],
  "GET /v1/customers/{customer_id}": [
    "customer_id", "profile{}", "identifiers", "consents{}", "traits{}", "segments[].name"
  ],
  "GET /v1/customers/{customer_id}/recommendations": [
    "as_of", "recommendations[].name", "recommendations[].product_id", "recommendations[].category",
    "recommendations[].reason", "recommendations[].because_product_ids"
  ],
  "GET /v1/customers/{customer_id}/next-best-action": [
    "as_of", "action", "channel", "held_out_of",
    "playbooks[].playbook", "playbooks[].status", "playbooks[].reason", "playbooks[].channel"
  ],
  "GET /v1/dashboard/customers/{customer_id}": [
    "segments[].segment", "segments[].entered_at", "segments[].rule", "segments[].because{}",
    "timeline[].source", "timeline[].at", "timeline[].kind", "timeline[].channel", "timeline[].detail",
    "timeline[].value"
  ],
  "GET /v1/dashboard/impact": [
    "absent", "chart.image", "chart.takeaway", "reports[].playbook", "reports[].verdict",
    "reports[].effects[].metric", "reports[].effects[].treatment", "reports[].effects[].control",
    "reports[].effects[].difference", "reports[].effects[].low", "reports[].effects[].high",
    "reports[].effects[].direction"
  ],
  "GET /v1/dashboard/journeys": [
    "within_days", "to", "outcomes[].value", "outcomes[].label",
    "funnel.image", "funnel.takeaway", "paths.image", "paths.takeaway", "left_out"
  ]
};
// READS:end

const KEY = "personae.apiKey";

/** The READS entry an address answers to ("GET /v1/customers/C1/recommendations?limit=5" →
 * "GET /v1/customers/{customer_id}/recommendations"), or null. */
function route(method, path) {
  const parts = path.split("?")[0].split("/");
  for (const name of Object.keys(READS)) {
    const [verb, template] = name.split(" ");
    const want = template.split("/");
    if (verb === method && want.length === parts.length &&
        want.every((w, i) => (w.startsWith("{") && parts[i] !== "") || w === parts[i])) return name;
  }
  return null;
}

/** The answer as the pages see it: reading a field READS does not declare for its endpoint is
 * reported on the console (the browser tests fail on it) — the field is in no contract. */
function guard(value, name, path) {
  if (value === null || typeof value !== "object") return value;
  const fields = READS[name];
  const open = (p) => fields.some((f) => f === p || f.startsWith(p + ".") || f.startsWith(p + "[]") || f === p + "{}");
  return new Proxy(value, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof prop === "symbol" || prop === "then" || prop === "toJSON") return v;
      if (Array.isArray(target)) return /^\d+$/.test(prop) ? guard(v, name, path + "[]") : v;
      const here = path === "" ? prop : path + "." + prop;
      if (fields.includes(here + "{}")) return v; // a map whose keys are data
      if (!open(here)) console.error("contract: the dashboard reads " + here + " from " + name + ", which READS does not declare");
      return guard(v, name, here);
    },
  });
}

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
    if (!Number.isFinite(value)) return "—";
    return Number.isInteger(value) ? value.toLocaleString("en") : value.toLocaleString("en", {maximumFractionDigits: 2});
  }
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) return value.length ? value.map(fmt).join(", ") : "—";
  if (typeof value === "object") {
    // a map (affinities, preferences): "key: value" pairs, never raw JSON
    const pairs = Object.entries(value).filter(([, v]) => v !== null && v !== undefined);
    return pairs.length ? pairs.map(([k, v]) => k.replaceAll("_", " ") + ": " + fmt(v)).join("; ") : "—";
  }
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

/** A part of a page the API could not answer (nothing to recommend from): its message says why. */
class Unanswered {
  constructor(message) {
    this.message = message;
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
  const name = route(opts.method, path);
  if (name === null) {
    console.error("contract: " + opts.method + " " + path + " is not in READS");
    return data;
  }
  return guard(data, name, "");
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

/** The next best action in words, as `personae actions next` prints it: the decision, then each
 * playbook with what happened and why. */
function nextBestAction(box, nba) {
  if (nba instanceof Unanswered) {
    box.replaceChildren(el("p", {text: "No next best action: " + nba.message}));
    busy(box, false);
    return;
  }
  const head = nba.action
    ? el("p", {class: "status"}, "Next: ", el("strong", {text: nba.action.replaceAll("_", " ")}),
        nba.channel ? " by " + nba.channel : "", ".")
    : el("p", {class: "status", text: nba.held_out_of
        ? "Held out of " + nba.held_out_of.replaceAll("_", " ") + " (its control group): no message, so its effect can be measured."
        : "No action: no playbook applies to this customer today (why, for each, below)."});
  const steps = nba.playbooks.map((s) => el("li", {},
    el("strong", {text: s.playbook.replaceAll("_", " ")}), ": " + (STATUS[s.status] || s.status.replaceAll("_", " ")),
    s.channel && s.status === "chosen" ? " by " + s.channel : "", s.reason ? " — " + s.reason : ""));
  box.replaceChildren(head, steps.length
    ? el("ul", {class: "playbooks", "aria-label": "Every playbook"}, ...steps)
    : el("p", {text: "No playbook is configured (see docs/personalization.md)."}),
    el("p", {class: "help", text: "As of " + nba.as_of + " (the latest build)."}));
  busy(box, false);
}

/** What each playbook status means, in words. */
const STATUS = {
  chosen: "chosen",
  held_out: "held out (control group)",
  suppressed: "suppressed",
  not_eligible: "not eligible",
  outranked: "outranked by a higher priority",
};

/** The recommended products, each with why; or why there are none. */
function recommendations(list, recs) {
  if (recs instanceof Unanswered) {
    fill(list, [el("li", {class: "none", text: "No recommendation: " + recs.message})]);
    return;
  }
  const items = recs.recommendations;
  fill(list, items.length
    ? items.map((r) => el("li", {}, el("strong", {text: r.name || r.product_id}),
        r.category ? " · " + r.category : "",
        r.reason ? el("span", {class: "reason", text: " — " + r.reason,
          "data-because": r.because_product_ids.join(" ") || null,
          title: r.because_product_ids.length ? "cites product " + r.because_product_ids.join(", ") : null}) : ""))
    : [el("li", {class: "none", text: "No recommendation: every product this customer could be shown is filtered out (bought, or not allowed without personalization consent)."})]);
  list.after(el("p", {class: "help", text: "As of " + recs.as_of + " (the latest build)."}));
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
      } else if (now.valid) {
        box.textContent = "Not counted: there are no traits yet (run `personae build`).";
      } else {
        box.textContent = "The rule no longer checks: " + now.errors.map((e) => e.message).join("; ") + ".";
      }
    }
    const history = detail.history || [];
    fill(document.querySelector("#history-table tbody"), history.length
      ? history.map((h) =>
          el("tr", {}, el("th", {scope: "row", text: h.as_of}), el("td", {class: "num", text: fmt(h.version)}),
            el("td", {class: "num", text: fmt(h.members)}), el("td", {class: "num", text: fmt(h.entered)}),
            el("td", {class: "num", text: fmt(h.exited)})))
      : [el("tr", {}, el("td", {colspan: 5, text: "No build has evaluated this segment yet: it is counted at the next `personae build`."}))]);
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
    // a part that cannot be answered (no product to recommend from) says why in its place
    const why = (e) => {
      if (e instanceof ApiError && e.status !== 401) return new Unanswered(e.message);
      throw e;
    };
    const [recs, nba, extra] = await Promise.all([
      api("/v1/customers/" + cid + "/recommendations?limit=5").catch(why),
      api("/v1/customers/" + cid + "/next-best-action").catch(why),
      api("/v1/dashboard/customers/" + cid),
    ]);
    document.querySelector("h1").textContent = "Customer " + c.customer_id;
    const p = c.profile || {};
    facts(document.getElementById("profile"), [
      ["Customer id", c.customer_id],
      ...Object.entries(p).filter(([k, v]) => k !== "customer_id" && v !== null && v !== "").map(([k, v]) => [k.replaceAll("_", " "), v]),
      ["Identifiers", c.identifiers],
    ]);
    nextBestAction(document.getElementById("nba"), nba);
    // consents
    const consents = Object.entries(c.consents || {});
    fill(document.getElementById("consents"), consents.length
      ? consents.map(([purpose, ok]) => el("li", {class: ok ? "yes" : "no"}, purpose + ": " + (ok ? "granted" : "not granted")))
      : [el("li", {text: "No consent decision recorded: the consent policy's defaults apply."})]);
    recommendations(document.getElementById("recommendations"), recs);
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
    const draw = (source) => {
      const shown = extra.timeline.filter((t) => !source || t.source === source);
      fill(tbody, shown.length
        ? shown.map((t) => el("tr", {"data-source": t.source}, el("td", {text: when(t.at)}), el("td", {text: t.kind || "—"}),
            el("td", {text: t.channel || "—"}), el("td", {text: t.detail || "—"}),
            el("td", {class: "num", text: fmt(t.value)})))
        : [el("tr", {}, el("td", {colspan: 5, text: source
            ? "No interaction of this kind recorded for this customer."
            : "No interaction recorded for this customer (events, orders, survey answers or consents)."}))]);
    };
    draw("");
    const select = document.getElementById("timeline-source");
    select.addEventListener("change", () => draw(select.value));
    // traits
    const traits = Object.entries(c.traits || {}).sort();
    fill(document.querySelector("#traits tbody"), traits.length
      ? traits.map(([k, v]) => row([k, fmt(v)], true))
      : [el("tr", {}, el("td", {colspan: 2, text: "No traits yet: they appear after `personae build`."}))]);
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
              const word = (text.slice(e.position).match(/^[\w.]+/) || [""])[0];  // dotted: a nested property
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

    // the names a rule may use, event properties included: a click writes one where the cursor is
    const insert = (word) => {
      const at = rule.selectionStart ?? rule.value.length;
      rule.value = rule.value.slice(0, at) + word + rule.value.slice(rule.selectionEnd ?? at);
      rule.focus();
      rule.selectionStart = rule.selectionEnd = at + word.length;
      check();
    };
    const names = async () => {
      const namesStatus = document.getElementById("rule-names-status");
      let data;
      try {
        data = await api("/v1/dashboard/rule-names");
      } catch (e) {
        namesStatus.textContent = "Could not read the names: " + e.message;
        return;
      }
      const item = (word, label) => {
        const b = el("button", {type: "button", class: "link"}, label);
        b.addEventListener("click", () => insert(word));
        return el("span", {}, b, " ");
      };
      fill(document.getElementById("rule-functions"),
        data.names.filter((n) => n.kind === "function").map((n) => item(n.name + "(", n.name + "(…)")));
      fill(document.getElementById("rule-properties"),
        data.properties.map((p) => item(p.name, p.name + " (" + p.types.join(", ") + ")")));
      namesStatus.textContent = data.properties.length
        ? data.properties.length + " event properties in the latest events."
        : "No event carries properties yet.";
    };
    names();
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
    // the outcomes on offer are the data's: the menu gains each event type there is (a "rating"
    // event on MovieLens), from the first answer
    const asked = new URLSearchParams(location.search);
    if (asked.get("within")) within.value = asked.get("within");
    if (!within.value) within.value = "7";
    let wanted = asked.get("to") || to.value || "order";
    let latest = 0;
    const offer = (outcomes, chosen) => {
      const have = new Set([...to.options].map((o) => o.value));
      for (const o of outcomes) if (!have.has(o.value)) to.append(el("option", {value: o.value}, o.label));
      if (![...to.options].some((o) => o.value === chosen)) to.append(el("option", {value: chosen}, chosen));
      to.value = chosen;
    };
    const load = async () => {
      const ticket = ++latest;
      const query = new URLSearchParams({within: within.value, to: wanted});
      busy(funnel, true);
      busy(paths, true);
      const data = await api("/v1/dashboard/journeys?" + query);
      if (ticket !== latest) return; // a newer choice is on its way: do not draw an older answer
      offer(data.outcomes, data.to);
      chart(funnel, data.funnel);
      chart(paths, data.paths);
      const left = document.getElementById("journey-left-out");
      left.textContent = data.left_out || "";
      left.hidden = !data.left_out;
      funnel.dataset.within = String(data.within_days);
      paths.dataset.to = data.to;
      document.getElementById("paths-h").textContent = "Paths to " + to.options[to.selectedIndex].text;
      history.replaceState(null, "", "?" + query);
      problem("");
    };
    const reload = () => load().catch((e) => problem(e.message));
    within.addEventListener("change", reload);
    to.addEventListener("change", () => {
      wanted = to.value;
      reload();
    });
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
