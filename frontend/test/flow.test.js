// The hosted flow (issue 9): the client token from the fragment (and out of the address bar),
// POST /v1/flow checked field by field, and the return URL to the relying party.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fetchFlow, isWebUrl, parseFlow, readToken, returnUrl, takeToken } from "../src/flow.js";
import { ACCESS_DENIED } from "../src/protocol/limits.js";
import { CLIENT_TOKEN, TRANSACTION, fakeApi, withFetch } from "../testing/helpers.js";
import { ApiError, ProtocolError } from "../src/protocol/errors.js";

const NOW = 1_764_316_800;
const FLOW = { ...TRANSACTION, expires_at: NOW + 600 };

test("the client token is read from #token=<43 base64url characters> only", () => {
  assert.equal(readToken(`#token=${CLIENT_TOKEN}`), CLIENT_TOKEN);
  assert.equal(readToken(`#lang=hi&token=${CLIENT_TOKEN}`), CLIENT_TOKEN);
  for (const hash of ["", "#", "#token=", `#token=${CLIENT_TOKEN}x`, `#token=${CLIENT_TOKEN.slice(1)}`, `#token=${CLIENT_TOKEN.slice(1)}+`,
    `#client_token=${CLIENT_TOKEN}`, `?token=${CLIENT_TOKEN}`, `token=${CLIENT_TOKEN}`, undefined]) {
    assert.equal(readToken(hash), null, String(hash));
  }
});

test("taking the token removes the fragment from the address bar (path and query kept)", () => {
  const calls = [];
  const history = { state: { kept: 1 }, replaceState: (...args) => calls.push(args) };
  const at = (hash) => ({ hash, pathname: "/", search: "?utm=x" });
  assert.equal(takeToken({ location: at(`#token=${CLIENT_TOKEN}`), history }), CLIENT_TOKEN);
  assert.deepEqual(calls, [[{ kept: 1 }, "", "/?utm=x"]]);
  // A malformed token is removed too, and none is read.
  assert.equal(takeToken({ location: at("#token=short"), history }), null);
  assert.equal(calls.length, 2);
  // No fragment: nothing to replace.
  assert.equal(takeToken({ location: at(""), history }), null);
  assert.equal(calls.length, 2);
});

test("POST /v1/flow: the transaction, checked, without using the token up", async () => {
  const api = await fakeApi({ now: NOW, flow: { locale: "hi", purpose: "step_up" } });
  const flow = await withFetch(api.fetch, () => fetchFlow(api.apiUrl, CLIENT_TOKEN));
  assert.deepEqual(flow, {
    transactionId: TRANSACTION.transaction_id,
    relyingParty: { clientId: "acme-bank", name: "Acme Bank", alternativeUrl: "https://acme.example/other-ways" },
    purpose: "step_up", locale: "hi", returnUrl: TRANSACTION.return_url, state: TRANSACTION.state, expiresAt: NOW + 600,
  });
  assert.ok(Object.isFrozen(flow) && Object.isFrozen(flow.relyingParty));
  const [request] = api.requests;
  assert.deepEqual([request.method, request.url.href, request.headers.get("content-type")],
    ["POST", "https://api.test/v1/flow", "application/json"]);
  // Read again: still there (not used up).
  assert.equal((await withFetch(api.fetch, () => fetchFlow(api.apiUrl, CLIENT_TOKEN))).transactionId, TRANSACTION.transaction_id);
});

test("an unknown, expired or used token is a 401 invalid_client_token ApiError", async () => {
  const api = await fakeApi({ now: NOW });
  const read = (token) => withFetch(api.fetch, () => fetchFlow(api.apiUrl, token).catch((e) => e));
  const unknown = await read("B".repeat(43));
  assert.ok(unknown instanceof ApiError);
  assert.deepEqual([unknown.status, unknown.code], [401, "invalid_client_token"]);
  assert.deepEqual([(await read("short")).status, (await read("short")).code], [400, "bad_request"]);
  const expired = await fakeApi({ now: NOW, flow: { expires_at: NOW } });
  const err = await withFetch(expired.fetch, () => fetchFlow(expired.apiUrl, CLIENT_TOKEN).catch((e) => e));
  assert.equal(err.code, "invalid_client_token");
  const notJson = await withFetch(async () => new Response("<html>", { status: 200 }), () => fetchFlow(api.apiUrl, CLIENT_TOKEN).catch((e) => e));
  assert.ok(notJson instanceof ProtocolError);
  assert.equal(notJson.reason, "flow answer is not JSON");
});

test("a flow answer is refused unless every field is of its kind (names, URLs, purpose, locale, state)", () => {
  assert.equal(parseFlow(FLOW).relyingParty.name, "Acme Bank");
  assert.equal(parseFlow({ ...FLOW, relying_party: { ...FLOW.relying_party, alternative_url: "" } }).relyingParty.alternativeUrl, "");
  assert.equal(parseFlow({ ...FLOW, return_url: "http://127.0.0.1:8090/callback?x=1" }).returnUrl, "http://127.0.0.1:8090/callback?x=1");
  const rp = (changes) => ({ ...FLOW, relying_party: { ...FLOW.relying_party, ...changes } });
  const bad = [
    null, [], {}, { ...FLOW, transaction_id: "short" }, { ...FLOW, transaction_id: undefined },
    rp({ name: "" }), rp({ name: "   " }), rp({ name: 7 }), rp({ client_id: "Acme Bank" }), rp({ client_id: undefined }),
    rp({ alternative_url: "javascript:alert(1)" }), rp({ alternative_url: "/other" }), rp({ alternative_url: undefined }),
    { ...FLOW, relying_party: "Acme" }, { ...FLOW, relying_party: undefined },
    { ...FLOW, purpose: "payment" }, { ...FLOW, purpose: undefined }, { ...FLOW, locale: "fr" }, { ...FLOW, locale: undefined },
    { ...FLOW, return_url: "javascript:alert(1)//" }, { ...FLOW, return_url: "data:text/html,x" }, { ...FLOW, return_url: "/callback" },
    { ...FLOW, return_url: "https://acme.example/cb#frag" }, { ...FLOW, return_url: "" },
    { ...FLOW, state: "" }, { ...FLOW, state: "a b" }, { ...FLOW, state: "x".repeat(257) }, { ...FLOW, state: "a&b=c" },
    { ...FLOW, expires_at: "1764317400" }, { ...FLOW, expires_at: 1.5 },
  ];
  for (const raw of bad) {
    assert.throws(() => parseFlow(raw), (err) => err instanceof ProtocolError && err.reason === "flow answer is malformed", JSON.stringify(raw));
  }
  assert.deepEqual(["https://a.example/x", "http://127.0.0.1:9/r", "ftp://a.example", "https:", "about:blank"].map(isWebUrl),
    [true, true, false, false, false]);
});

test("the return URL: ? or & before transaction_id and state, and error=access_denied without a decision", () => {
  const flow = parseFlow(FLOW);
  const id = TRANSACTION.transaction_id;
  assert.equal(returnUrl(flow), `https://acme.example/secureface/return?transaction_id=${id}&state=st4te-0f.the_rp~`);
  assert.equal(returnUrl(flow, { error: ACCESS_DENIED }),
    `https://acme.example/secureface/return?transaction_id=${id}&state=st4te-0f.the_rp~&error=access_denied`);
  const withQuery = { ...flow, returnUrl: "https://acme.example/cb?client=web&lang=hi" };
  assert.equal(returnUrl(withQuery), `https://acme.example/cb?client=web&lang=hi&transaction_id=${id}&state=st4te-0f.the_rp~`);
  assert.equal(returnUrl(withQuery, { error: ACCESS_DENIED }),
    `https://acme.example/cb?client=web&lang=hi&transaction_id=${id}&state=st4te-0f.the_rp~&error=access_denied`);
  // What the relying party reads back: exactly its state and the transaction, never the token.
  const params = new URL(returnUrl(withQuery, { error: ACCESS_DENIED })).searchParams;
  assert.deepEqual([params.get("transaction_id"), params.get("state"), params.get("error"), params.get("client")],
    [id, "st4te-0f.the_rp~", "access_denied", "web"]);
  assert.ok(!returnUrl(flow, { error: ACCESS_DENIED }).includes(CLIENT_TOKEN));
});
