/**
 * The Tokens page island: create named client tokens (the secret is shown once, with a copy
 * button), with an optional model allow-list, requests per minute, daily token quota and expiry;
 * list them with today's usage; revoke.
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { apiCall, messageOf } from "../lib/admin/api_client.ts";
import type { CreatedToken, TokenInfo, TokenListResponse } from "../lib/admin/api_types.ts";
import { TokenForm, type TokenFormValue } from "../lib/admin/ui/token_form.tsx";
import { TokenTable } from "../lib/admin/ui/token_table.tsx";
import { ConfirmDialog } from "../lib/admin/ui/modal.tsx";

/** Props of {@link TokenManager}. */
export interface TokenManagerProps {
  /** Tokens rendered on the server; null to load them in the browser. */
  initial: TokenListResponse | null;
  /** Admin JSON API base. */
  apiBase: string;
  /** Server clock at render time. */
  serverNow: number;
}

/** Island: client tokens. */
export function TokenManager(props: TokenManagerProps) {
  const tokens = useSignal<TokenInfo[]>(props.initial?.tokens ?? []);
  const loaded = useSignal(props.initial !== null);
  const created = useSignal<CreatedToken | null>(null);
  const copied = useSignal(false);
  const error = useSignal("");
  const revoking = useSignal<TokenInfo | null>(null);
  const showForm = useSignal(false);

  const load = async () => {
    try {
      tokens.value = (await apiCall<TokenListResponse>(props.apiBase, "/tokens")).tokens;
      loaded.value = true;
    } catch (err) {
      error.value = `Could not load tokens: ${messageOf(err)}`;
    }
  };
  useEffect(() => {
    if (!props.initial) load();
  }, []);

  const create = async (v: TokenFormValue) => {
    error.value = "";
    const r = await apiCall<CreatedToken>(props.apiBase, "/tokens", { body: v });
    created.value = r;
    copied.value = false;
    showForm.value = false;
    await load();
  };
  const copy = async () => {
    if (!created.value) return;
    try {
      await navigator.clipboard.writeText(created.value.token);
      copied.value = true;
    } catch {
      const el = document.getElementById("new-token") as HTMLInputElement | null;
      el?.select();
      error.value = "Copy was blocked by the browser: the token is selected, press Ctrl+C.";
    }
  };

  return (
    <div class="stack">
      {created.value && (
        <section class="panel created-token" data-created-token>
          <div class="created-head">
            <div>
              <h2>Token “{created.value.info.name}” created</h2>
              <p class="muted">Copy it now. It is shown only once; the gateway stores only its hash.</p>
            </div>
            <button
              type="button"
              class="icon-button"
              aria-label="Dismiss"
              onClick={() => created.value = null}
            >
              ×
            </button>
          </div>
          <div class="copy-row">
            <input
              id="new-token"
              class="code"
              readOnly
              value={created.value.token}
              onFocus={(e) => e.currentTarget.select()}
            />
            <button type="button" class="button primary" onClick={copy} data-action="copy">
              {copied.value ? "Copied" : "Copy"}
            </button>
          </div>
          <p class="muted small">
            Clients send it as <code>Authorization: Bearer …</code>, <code>x-goog-api-key</code> or{" "}
            <code>?key=</code>.
          </p>
        </section>
      )}
      {error.value && <p class="alert" role="alert">{error.value}</p>}
      {showForm.value
        ? <TokenForm now={props.serverNow} onCreate={create} onCancel={() => showForm.value = false} />
        : null}
      <section class="panel">
        <header class="panel-head">
          <p class="summary">
            <strong>{tokens.value.filter((t) => !t.revoked).length}</strong> active
            <span class="sep">·</span>
            {tokens.value.filter((t) => t.revoked).length} revoked
          </p>
          {!showForm.value && (
            <button
              type="button"
              class="button primary"
              onClick={() => showForm.value = true}
              data-action="new-token"
            >
              New token
            </button>
          )}
        </header>
        {!loaded.value
          ? <p class="empty">Loading tokens…</p>
          : tokens.value.length === 0
          ? (
            <div class="empty-state" data-empty>
              <h2>No client tokens yet</h2>
              <p class="muted">
                Create a token for each app that calls the gateway, so you can limit and revoke it.
              </p>
            </div>
          )
          : <TokenTable tokens={tokens.value} now={props.serverNow} onRevoke={(t) => revoking.value = t} />}
      </section>
      {revoking.value && (
        <ConfirmDialog
          title={`Revoke “${revoking.value.name}”?`}
          message="Apps using this token are refused from the next request on. This cannot be undone."
          confirmLabel="Revoke token"
          danger
          onCancel={() => revoking.value = null}
          onConfirm={async () => {
            const t = revoking.value!;
            revoking.value = null;
            try {
              await apiCall(props.apiBase, "/tokens/revoke", { body: { id: t.id } });
            } catch (err) {
              error.value = messageOf(err);
            }
            await load();
          }}
        />
      )}
    </div>
  );
}
