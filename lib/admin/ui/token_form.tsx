/**
 * The client token form, for a new token or to edit one: name, optional model allow-list, requests
 * per minute, daily token quota and expiry date. Shows the server's error (e.g. a duplicate name)
 * inline, on the field it names.
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { ApiError, messageOf } from "../api_client.ts";
import type { TokenInfo } from "../api_types.ts";
import type { NewToken } from "../../tokens/token_store.ts";
import { type MessageKey, t } from "../i18n.ts";
import { TextField, type TextFieldProps } from "./text_field.tsx";

/** What `POST /tokens` gets (and `POST /tokens/update`, where null clears a limit). */
export type TokenFormValue = NewToken;

/** A change from the edit form: null clears a field. */
export type TokenEdit = { [K in keyof NewToken]?: NewToken[K] | null };

const UNLIMITED_NUMBER = { type: "number", min: 1 } as const;

/** The form's fields, in order (`field` is also the name the server reports violations by). */
const FIELDS: Array<
  Omit<TextFieldProps, "value" | "invalid" | "label" | "hint"> & {
    field: keyof TokenFormValue;
    label: MessageKey;
    hint?: MessageKey;
    placeholder?: MessageKey;
  }
> = [
  {
    field: "name",
    id: "token-name",
    label: "tokens.field.name",
    hint: "tokens.field.name.hint",
    placeholder: "tokens.field.name.placeholder",
    input: { required: true, maxLength: 100 },
  },
  {
    field: "models",
    id: "token-models",
    label: "tokens.field.models",
    hint: "tokens.field.models.hint",
    placeholder: "tokens.field.models.placeholder",
  },
  {
    field: "rpm",
    id: "token-rpm",
    label: "tokens.field.rpm",
    placeholder: "tokens.unlimited",
    input: UNLIMITED_NUMBER,
  },
  {
    field: "dailyTokens",
    id: "token-daily",
    label: "tokens.field.daily",
    hint: "tokens.field.daily.hint",
    placeholder: "tokens.unlimited",
    input: UNLIMITED_NUMBER,
  },
  {
    field: "expiresAt",
    id: "token-expires",
    label: "tokens.field.expires",
    hint: "tokens.field.expires.hint",
    input: { type: "date" },
  },
];

/** `YYYY-MM-DD` of an epoch ms in local time (a date input's value). */
function dateInput(ms?: number): string {
  if (!ms) return "";
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${
    String(d.getDate()).padStart(2, "0")
  }`;
}

/** Props of {@link TokenForm}. */
export interface TokenFormProps {
  now: number;
  /** The token to edit; a new token when absent. */
  editing?: TokenInfo;
  /** Receives the form's values; for an edit, cleared fields are null. */
  onSubmit: (v: TokenEdit) => Promise<void>;
  onCancel: () => void;
}

/** The form. */
export function TokenForm(props: TokenFormProps) {
  const e = props.editing;
  const name = useSignal(e?.name ?? "");
  const models = useSignal(e?.models?.join(", ") ?? "");
  const rpm = useSignal(e?.rpm ? String(e.rpm) : "");
  const daily = useSignal(e?.dailyTokens ? String(e.dailyTokens) : "");
  const expires = useSignal(dateInput(e?.expiresAt));
  const error = useSignal("");
  const field = useSignal("");
  const busy = useSignal(false);
  // An empty field means "none": left out for a new token, cleared (null) for an edit.
  const none = e ? null : undefined;
  const submit = async (ev: Event) => {
    ev.preventDefault();
    busy.value = true;
    error.value = "";
    field.value = "";
    try {
      const list = models.value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
      await props.onSubmit({
        name: name.value.trim(),
        models: list.length ? list : none,
        rpm: rpm.value ? Number(rpm.value) : none,
        dailyTokens: daily.value ? Number(daily.value) : none,
        // The end of the chosen day, local time.
        expiresAt: expires.value ? new Date(`${expires.value}T23:59:59`).getTime() : none,
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
    <form class="panel form-panel" onSubmit={submit} data-token-form={e ? "edit" : "new"}>
      <h2>{e ? t("tokens.form.edit", { name: e.name }) : t("tokens.form.new")}</h2>
      {error.value && <p class="alert" role="alert">{error.value}</p>}
      <div class="form grid-2">
        {FIELDS.map((f) => (
          <TextField
            key={f.field}
            id={f.id}
            label={t(f.label)}
            value={drafts[f.field]}
            invalid={bad(f.field)}
            hint={f.hint && t(f.hint)}
            input={{ ...f.input, placeholder: f.placeholder && t(f.placeholder) }}
          />
        ))}
      </div>
      <div class="form-actions">
        <button type="button" class="button" onClick={props.onCancel}>{t("common.cancel")}</button>
        <button
          type="submit"
          class="button primary"
          disabled={busy.value || !name.value.trim()}
          data-action={e ? "save-token" : "create-token"}
        >
          {e
            ? busy.value ? t("common.saving") : t("common.save")
            : busy.value
            ? t("tokens.creating")
            : t("tokens.create")}
        </button>
      </div>
    </form>
  );
}
