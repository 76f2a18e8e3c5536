/**
 * The "new client token" form: name, optional model allow-list, requests per minute, daily token
 * quota and expiry date. Shows the server's error (e.g. a duplicate name) inline.
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { ApiError, messageOf } from "../api_client.ts";

/** What `POST /tokens` gets. */
export interface TokenFormValue {
  name: string;
  models?: string[];
  rpm?: number;
  dailyTokens?: number;
  expiresAt?: number;
}

/** Props of {@link TokenForm}. */
export interface TokenFormProps {
  now: number;
  onCreate: (v: TokenFormValue) => Promise<void>;
  onCancel: () => void;
}

/** The form. */
export function TokenForm(props: TokenFormProps) {
  const name = useSignal("");
  const models = useSignal("");
  const rpm = useSignal("");
  const daily = useSignal("");
  const expires = useSignal("");
  const error = useSignal("");
  const field = useSignal("");
  const busy = useSignal(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    busy.value = true;
    error.value = "";
    field.value = "";
    try {
      const list = models.value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
      await props.onCreate({
        name: name.value.trim(),
        models: list.length ? list : undefined,
        rpm: rpm.value ? Number(rpm.value) : undefined,
        dailyTokens: daily.value ? Number(daily.value) : undefined,
        // The end of the chosen day, local time.
        expiresAt: expires.value ? new Date(`${expires.value}T23:59:59`).getTime() : undefined,
      });
    } catch (err) {
      error.value = messageOf(err);
      if (err instanceof ApiError) field.value = err.violations[0]?.field ?? "";
    } finally {
      busy.value = false;
    }
  };
  const bad = (f: string) => field.value === f || undefined;
  return (
    <form class="panel form-panel" onSubmit={submit} data-token-form>
      <h2>New client token</h2>
      {error.value && <p class="alert" role="alert">{error.value}</p>}
      <div class="form grid-2">
        <div class="field">
          <label for="token-name">Name</label>
          <input
            id="token-name"
            required
            maxLength={100}
            placeholder="e.g. mobile-app"
            aria-invalid={bad("name")}
            value={name.value}
            onInput={(e) => name.value = e.currentTarget.value}
          />
          <p class="muted small">Shown in logs and usage.</p>
        </div>
        <div class="field">
          <label for="token-models">Allowed models</label>
          <input
            id="token-models"
            placeholder="all models"
            aria-invalid={bad("models")}
            value={models.value}
            onInput={(e) => models.value = e.currentTarget.value}
          />
          <p class="muted small">Comma separated, e.g. gemini-2.5-flash, gemini-2.5-pro.</p>
        </div>
        <div class="field">
          <label for="token-rpm">Requests per minute</label>
          <input
            id="token-rpm"
            type="number"
            min={1}
            placeholder="unlimited"
            aria-invalid={bad("rpm")}
            value={rpm.value}
            onInput={(e) => rpm.value = e.currentTarget.value}
          />
        </div>
        <div class="field">
          <label for="token-daily">Daily token quota</label>
          <input
            id="token-daily"
            type="number"
            min={1}
            placeholder="unlimited"
            aria-invalid={bad("dailyTokens")}
            value={daily.value}
            onInput={(e) => daily.value = e.currentTarget.value}
          />
          <p class="muted small">Input + output tokens per Pacific day.</p>
        </div>
        <div class="field">
          <label for="token-expires">Expires</label>
          <input
            id="token-expires"
            type="date"
            aria-invalid={bad("expiresAt")}
            value={expires.value}
            onInput={(e) => expires.value = e.currentTarget.value}
          />
          <p class="muted small">Leave empty for a token that does not expire.</p>
        </div>
      </div>
      <div class="form-actions">
        <button type="button" class="button" onClick={props.onCancel}>Cancel</button>
        <button
          type="submit"
          class="button primary"
          disabled={busy.value || !name.value.trim()}
          data-action="create-token"
        >
          {busy.value ? "Creating…" : "Create token"}
        </button>
      </div>
    </form>
  );
}
