/**
 * The Tokens page island: create named client tokens (the secret is shown once, with a copy
 * button), with an optional model allow-list, requests per minute, daily token quota and expiry;
 * list them with today's usage; edit them; rotate them (a new secret, shown once; the old one keeps
 * working for a grace period the admin picks); revoke them.
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { apiCall, messageOf } from "../lib/admin/api_client.ts";
import type { CreatedToken, TokenInfo, TokenListResponse } from "../lib/admin/api_types.ts";
import { type MessageKey, t } from "../lib/admin/i18n.ts";
import { type TokenEdit, TokenForm } from "../lib/admin/ui/token_form.tsx";
import { type TokenAction, TokenTable } from "../lib/admin/ui/token_table.tsx";
import { ConfirmDialog, Modal } from "../lib/admin/ui/modal.tsx";
import { rich } from "../lib/admin/ui/rich_text.tsx";

/** Props of {@link TokenManager}. */
export interface TokenManagerProps {
  /** Tokens rendered on the server; null to load them in the browser. */
  initial: TokenListResponse | null;
  /** Admin JSON API base. */
  apiBase: string;
  /** Server clock at render time. */
  serverNow: number;
}

/** Grace periods offered for a rotation. */
const GRACE: ReadonlyArray<{ ms: number; label: MessageKey }> = [
  { ms: 0, label: "tokens.grace.none" },
  { ms: 3_600_000, label: "tokens.grace.hour" },
  { ms: 86_400_000, label: "tokens.grace.day" },
  { ms: 7 * 86_400_000, label: "tokens.grace.week" },
];

type Form = { kind: "new" } | { kind: "edit"; token: TokenInfo };

/** Island: client tokens. */
export function TokenManager(props: TokenManagerProps) {
  const tokens = useSignal<TokenInfo[]>(props.initial?.tokens ?? []);
  const loaded = useSignal(props.initial !== null);
  const created = useSignal<CreatedToken & { rotated?: boolean } | null>(null);
  const copied = useSignal(false);
  const error = useSignal("");
  const revoking = useSignal<TokenInfo | null>(null);
  const rotating = useSignal<TokenInfo | null>(null);
  const grace = useSignal(86_400_000);
  const form = useSignal<Form | null>(null);

  const load = async () => {
    try {
      tokens.value = (await apiCall<TokenListResponse>(props.apiBase, "/tokens")).tokens;
      loaded.value = true;
    } catch (err) {
      error.value = t("tokens.loadFailed", { error: messageOf(err) });
    }
  };
  useEffect(() => {
    if (!props.initial) load();
  }, []);

  const show = (r: CreatedToken, rotated = false) => {
    created.value = { ...r, rotated };
    copied.value = false;
  };
  const submit = async (v: TokenEdit) => {
    error.value = "";
    const f = form.value;
    if (f?.kind === "edit") {
      await apiCall(props.apiBase, "/tokens/update", { body: { id: f.token.id, ...v } });
    } else {
      const body = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null && x !== undefined));
      show(await apiCall<CreatedToken>(props.apiBase, "/tokens", { body }));
    }
    form.value = null;
    await load();
  };
  const act = (action: TokenAction, tok: TokenInfo) => {
    if (action === "edit") form.value = { kind: "edit", token: tok };
    else if (action === "rotate") rotating.value = tok;
    else revoking.value = tok;
  };
  const copy = async () => {
    if (!created.value) return;
    try {
      await navigator.clipboard.writeText(created.value.token);
      copied.value = true;
    } catch {
      const el = document.getElementById("new-token") as HTMLInputElement | null;
      el?.select();
      error.value = t("tokens.copyBlocked");
    }
  };

  const c = created.value;
  return (
    <div class="stack">
      {c && (
        <section class="panel created-token" data-created-token>
          <div class="created-head">
            <div>
              <h2>
                {c.rotated
                  ? t("tokens.rotated.title", { name: c.info.name })
                  : t("tokens.created.title", { name: c.info.name })}
              </h2>
              <p class="muted">{t("tokens.created.once")}</p>
            </div>
            <button
              type="button"
              class="icon-button"
              aria-label={t("common.dismiss")}
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
              value={c.token}
              onFocus={(e) => e.currentTarget.select()}
            />
            <button type="button" class="button primary" onClick={copy} data-action="copy">
              {copied.value ? t("tokens.copied") : t("tokens.copy")}
            </button>
          </div>
          <p class="muted small">
            {rich(t("tokens.created.howto"), {
              bearer: <code>Authorization: Bearer …</code>,
              header: <code>x-goog-api-key</code>,
              query: <code>?key=</code>,
            })}
          </p>
        </section>
      )}
      {error.value && <p class="alert" role="alert">{error.value}</p>}
      {form.value && (
        <TokenForm
          key={form.value.kind === "edit" ? form.value.token.id : "new"}
          now={props.serverNow}
          editing={form.value.kind === "edit" ? form.value.token : undefined}
          onSubmit={submit}
          onCancel={() => form.value = null}
        />
      )}
      <section class="panel">
        <header class="panel-head">
          <p class="summary">
            {rich(t("tokens.summary"), {
              active: <strong>{tokens.value.filter((x) => !x.revoked).length}</strong>,
              revoked: <span>{tokens.value.filter((x) => x.revoked).length}</span>,
              sep: <span class="sep">·</span>,
            })}
          </p>
          {!form.value && (
            <button
              type="button"
              class="button primary"
              onClick={() => form.value = { kind: "new" }}
              data-action="new-token"
            >
              {t("tokens.new")}
            </button>
          )}
        </header>
        {!loaded.value
          ? <p class="empty">{t("tokens.loading")}</p>
          : tokens.value.length === 0
          ? (
            <div class="empty-state" data-empty>
              <h2>{t("tokens.empty.title")}</h2>
              <p class="muted">{t("tokens.empty.text")}</p>
            </div>
          )
          : <TokenTable tokens={tokens.value} now={props.serverNow} onAction={act} />}
      </section>
      {revoking.value && (
        <ConfirmDialog
          title={t("tokens.revoke.title", { name: revoking.value.name })}
          message={t("tokens.revoke.text")}
          confirmLabel={t("tokens.revoke.confirm")}
          danger
          onCancel={() => revoking.value = null}
          onConfirm={async () => {
            const tok = revoking.value!;
            revoking.value = null;
            try {
              await apiCall(props.apiBase, "/tokens/revoke", { body: { id: tok.id } });
            } catch (err) {
              error.value = messageOf(err);
            }
            await load();
          }}
        />
      )}
      {rotating.value && (
        <Modal
          title={t("tokens.rotate.title", { name: rotating.value.name })}
          onClose={() => rotating.value = null}
          footer={
            <>
              <button type="button" class="button" onClick={() => rotating.value = null}>
                {t("common.cancel")}
              </button>
              <button
                type="button"
                class="button primary"
                data-action="rotate"
                onClick={async () => {
                  const tok = rotating.value!;
                  rotating.value = null;
                  try {
                    const r = await apiCall<CreatedToken>(props.apiBase, "/tokens/rotate", {
                      body: { id: tok.id, graceMs: grace.value },
                    });
                    show(r, true);
                  } catch (err) {
                    error.value = messageOf(err);
                  }
                  await load();
                }}
              >
                {t("tokens.rotate.confirm")}
              </button>
            </>
          }
        >
          <p class="modal-text">{t("tokens.rotate.text")}</p>
          <label class="field">
            <span>{t("tokens.rotate.grace")}</span>
            <select
              data-grace-select
              value={String(grace.value)}
              onChange={(e) => grace.value = Number(e.currentTarget.value)}
            >
              {GRACE.map((g) => <option key={g.ms} value={String(g.ms)}>{t(g.label)}</option>)}
            </select>
          </label>
        </Modal>
      )}
    </div>
  );
}
