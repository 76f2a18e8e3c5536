/**
 * The client token table: name and prefix, model allow-list, limits, expiry, today's usage, state,
 * and the row actions (edit, rotate, revoke). On a phone every row is a card.
 *
 * @module
 */
import type { TokenInfo } from "../api_types.ts";
import { formatDate, formatDateTime, formatInt } from "../format.ts";
import { t } from "../i18n.ts";
import { formatCount } from "../key_format.ts";

/** A token row action. */
export type TokenAction = "edit" | "rotate" | "revoke";

/** Props of {@link TokenTable}. */
export interface TokenTableProps {
  tokens: TokenInfo[];
  now: number;
  onAction: (action: TokenAction, t: TokenInfo) => void;
}

/** State badge of a token at `now`. */
export function tokenState(tok: TokenInfo, now: number): { label: string; tone: string } {
  if (tok.revoked) return { label: t("tokens.state.revoked"), tone: "bad" };
  if (tok.expiresAt && tok.expiresAt <= now) return { label: t("tokens.state.expired"), tone: "neutral" };
  return { label: t("tokens.state.active"), tone: "ok" };
}

/** The token table. */
export function TokenTable({ tokens, now, onAction }: TokenTableProps) {
  const col = {
    name: t("tokens.col.name"),
    state: t("tokens.col.state"),
    models: t("tokens.col.models"),
    rpm: t("tokens.col.rpm"),
    daily: t("tokens.col.daily"),
    expires: t("tokens.col.expires"),
    today: t("tokens.col.today"),
  };
  return (
    <div class="table-wrap">
      <table class="table cards tokens-table">
        <thead>
          <tr>
            <th scope="col">{col.name}</th>
            <th scope="col">{col.state}</th>
            <th scope="col">{col.models}</th>
            <th scope="col" class="num">{col.rpm}</th>
            <th scope="col" class="num">{col.daily}</th>
            <th scope="col">{col.expires}</th>
            <th scope="col" class="num">{col.today}</th>
            <th scope="col" class="actions-col">
              <span class="sr-only">{t("keys.col.actions")}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((tok) => {
            const state = tokenState(tok, now);
            const used = (tok.usageToday?.inputTokens ?? 0) + (tok.usageToday?.outputTokens ?? 0);
            const grace = tok.previousUntil && tok.previousUntil > now ? tok.previousUntil : undefined;
            const button = (action: TokenAction, label: string, danger = false) => (
              <button
                type="button"
                class={danger ? "link-button danger" : "link-button"}
                onClick={() => onAction(action, tok)}
                data-token-action={action}
                data-revoke={action === "revoke" ? tok.name : undefined}
              >
                {label}
              </button>
            );
            return (
              <tr key={tok.id} data-token={tok.name} class={tok.revoked ? "dim" : undefined}>
                <td data-label={col.name}>
                  <div class="key-name">{tok.name}</div>
                  <code class="key-masked">{tok.prefix}…</code>
                  <div class="muted small">{t("tokens.created", { date: formatDate(tok.createdAt) })}</div>
                  {grace && (
                    <div class="muted small" data-grace>
                      {t("tokens.grace", { time: formatDateTime(grace) })}
                    </div>
                  )}
                </td>
                <td data-label={col.state}>
                  <span class={`badge badge-${state.tone}`} data-token-state={state.label}>
                    {state.label}
                  </span>
                </td>
                <td data-label={col.models}>
                  {tok.models?.length
                    ? <div class="chips">{tok.models.map((m) => <span class="chip" key={m}>{m}</span>)}</div>
                    : <span class="muted">{t("tokens.allModels")}</span>}
                </td>
                <td class="num" data-label={col.rpm}>
                  {tok.rpm
                    ? t("tokens.perMinute", { n: formatInt(tok.rpm) })
                    : <span class="muted">{t("tokens.none")}</span>}
                </td>
                <td class="num" data-label={col.daily}>
                  {tok.dailyTokens
                    ? (
                      <>
                        <div>{formatCount(used)} / {formatCount(tok.dailyTokens)}</div>
                        <meter
                          min={0}
                          max={tok.dailyTokens}
                          value={Math.min(used, tok.dailyTokens)}
                          high={tok.dailyTokens * 0.8}
                        />
                      </>
                    )
                    : <span class="muted">{t("tokens.unlimited")}</span>}
                </td>
                <td data-label={col.expires}>
                  {tok.expiresAt ? formatDate(tok.expiresAt) : <span class="muted">{t("tokens.never")}</span>}
                </td>
                <td class="num" data-label={col.today}>
                  <div>{t("keys.usage.requests", { n: formatCount(tok.usageToday?.requests ?? 0) })}</div>
                  <div class="muted small">
                    {t("keys.usage.tokens", {
                      input: formatCount(tok.usageToday?.inputTokens ?? 0),
                      output: formatCount(tok.usageToday?.outputTokens ?? 0),
                    })}
                  </div>
                </td>
                <td class="row-actions">
                  {!tok.revoked && (
                    <div class="row-actions-inner">
                      {button("edit", t("tokens.action.edit"))}
                      {button("rotate", t("tokens.action.rotate"))}
                      {button("revoke", t("tokens.action.revoke"), true)}
                    </div>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
