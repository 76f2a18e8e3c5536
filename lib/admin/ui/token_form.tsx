/**
 * The "new client token" form: name, optional model allow-list, requests per minute, daily token
 * quota and expiry date. Shows the server's error (e.g. a duplicate name) inline.
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { ApiError, messageOf } from "../api_client.ts";
import type { NewToken } from "../../tokens/token_store.ts";
import { TextField, type TextFieldProps } from "./text_field.tsx";

/** What `POST /tokens` gets. */
export type TokenFormValue = NewToken;

const UNLIMITED_NUMBER = { type: "number", min: 1, placeholder: "unlimited" } as const;

/** The form's fields, in order (`field` is also the name the server reports violations by). */
const FIELDS: Array<Omit<TextFieldProps, "value" | "invalid"> & { field: keyof TokenFormValue }> = [
  {
    field: "name",
    id: "token-name",
    label: "Name",
    hint: "Shown in logs and usage.",
    input: { required: true, maxLength: 100, placeholder: "e.g. mobile-app" },
  },
  {
    field: "models",
    id: "token-models",
    label: "Allowed models",
    hint: "Comma separated, e.g. gemini-2.5-flash, gemini-2.5-pro.",
    input: { placeholder: "all models" },
  },
  { field: "rpm", id: "token-rpm", label: "Requests per minute", input: UNLIMITED_NUMBER },
  {
    field: "dailyTokens",
    id: "token-daily",
    label: "Daily token quota",
    hint: "Input + output tokens per Pacific day.",
    input: UNLIMITED_NUMBER,
  },
  {
    field: "expiresAt",
    id: "token-expires",
    label: "Expires",
    hint: "Leave empty for a token that does not expire.",
    input: { type: "date" },
  },
];

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
  const drafts = { name, models, rpm, dailyTokens: daily, expiresAt: expires };
  return (
    <form class="panel form-panel" onSubmit={submit} data-token-form>
      <h2>New client token</h2>
      {error.value && <p class="alert" role="alert">{error.value}</p>}
      <div class="form grid-2">
        {FIELDS.map((f) => (
          <TextField
            key={f.field}
            id={f.id}
            label={f.label}
            value={drafts[f.field]}
            invalid={bad(f.field)}
            hint={f.hint}
            input={f.input}
          />
        ))}
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
