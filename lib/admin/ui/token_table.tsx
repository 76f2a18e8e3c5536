/**
 * The client token table: name and prefix, model allow-list, limits, expiry, today's usage, state.
 *
 * @module
 */
import type { TokenInfo } from "../api_types.ts";
import { formatDate, formatInt } from "../format.ts";
import { formatCount } from "../key_format.ts";

/** Props of {@link TokenTable}. */
export interface TokenTableProps {
  tokens: TokenInfo[];
  now: number;
  onRevoke: (t: TokenInfo) => void;
}

/** State badge of a token at `now`. */
export function tokenState(t: TokenInfo, now: number): { label: string; tone: string } {
  if (t.revoked) return { label: "Revoked", tone: "bad" };
  if (t.expiresAt && t.expiresAt <= now) return { label: "Expired", tone: "neutral" };
  return { label: "Active", tone: "ok" };
}

/** The token table. */
export function TokenTable({ tokens, now, onRevoke }: TokenTableProps) {
  return (
    <div class="table-wrap">
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">State</th>
            <th scope="col">Models</th>
            <th scope="col" class="num">Rate limit</th>
            <th scope="col" class="num">Daily tokens</th>
            <th scope="col">Expires</th>
            <th scope="col" class="num">Today</th>
            <th scope="col" class="actions-col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((t) => {
            const state = tokenState(t, now);
            const used = (t.usageToday?.inputTokens ?? 0) + (t.usageToday?.outputTokens ?? 0);
            return (
              <tr key={t.id} data-token={t.name} class={t.revoked ? "dim" : undefined}>
                <td>
                  <div class="key-name">{t.name}</div>
                  <code class="key-masked">{t.prefix}…</code>
                  <div class="muted small">Created {formatDate(t.createdAt)}</div>
                </td>
                <td>
                  <span class={`badge badge-${state.tone}`} data-token-state={state.label}>
                    {state.label}
                  </span>
                </td>
                <td>
                  {t.models?.length
                    ? <div class="chips">{t.models.map((m) => <span class="chip" key={m}>{m}</span>)}</div>
                    : <span class="muted">All models</span>}
                </td>
                <td class="num">{t.rpm ? `${formatInt(t.rpm)} / min` : <span class="muted">None</span>}</td>
                <td class="num">
                  {t.dailyTokens
                    ? (
                      <>
                        <div>{formatCount(used)} / {formatCount(t.dailyTokens)}</div>
                        <meter
                          min={0}
                          max={t.dailyTokens}
                          value={Math.min(used, t.dailyTokens)}
                          high={t.dailyTokens * 0.8}
                        />
                      </>
                    )
                    : <span class="muted">Unlimited</span>}
                </td>
                <td>{t.expiresAt ? formatDate(t.expiresAt) : <span class="muted">Never</span>}</td>
                <td class="num">
                  <div>{formatCount(t.usageToday?.requests ?? 0)} req</div>
                  <div class="muted small">
                    {formatCount(t.usageToday?.inputTokens ?? 0)} in ·{" "}
                    {formatCount(t.usageToday?.outputTokens ?? 0)} out
                  </div>
                </td>
                <td class="row-actions">
                  {!t.revoked && (
                    <button
                      type="button"
                      class="link-button danger"
                      onClick={() => onRevoke(t)}
                      data-revoke={t.name}
                    >
                      Revoke
                    </button>
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
