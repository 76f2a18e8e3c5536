/**
 * Form inputs bound to signals, shared by the admin dialogs and forms: a labelled text input with an
 * optional hint, the admin token entered again, and a checkbox row.
 *
 * @module
 */
import type { Signal } from "@preact/signals";
import type { ComponentChildren, JSX } from "preact";
import { t } from "../i18n.ts";

/** Props of {@link TextField}. */
export interface TextFieldProps {
  /** Input id (the label points at it). */
  id: string;
  label: string;
  /** The draft text; typing updates it. */
  value: Signal<string>;
  /** Marks the input invalid (e.g. the field the server rejected). */
  invalid?: boolean;
  /** Small muted text under the input. */
  hint?: string;
  /** Further input attributes (type, placeholder, min, required, …). */
  input?: JSX.InputHTMLAttributes<HTMLInputElement>;
}

/** A `.field` block: label, input, hint. */
export function TextField({ id, label, value, invalid, hint, input }: TextFieldProps) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        {...input}
        aria-invalid={invalid}
        value={value.value}
        onInput={(e) => value.value = e.currentTarget.value}
      />
      {hint && <p class="muted small">{hint}</p>}
    </div>
  );
}

/** The admin token entered again (full key exports, backups): a password input bound to `value`. */
export function AdminTokenInput({ value, data }: { value: Signal<string>; data: string }) {
  return (
    <input
      type="password"
      autocomplete="current-password"
      aria-label={t("login.token")}
      placeholder={t("login.token")}
      {...{ [`data-${data}`]: true }}
      value={value.value}
      onInput={(e) => value.value = e.currentTarget.value}
    />
  );
}

/** A checkbox with its label on one row, bound to `value`. */
export function CheckRow(
  { value, data, children }: { value: Signal<boolean>; data: string; children: ComponentChildren },
) {
  return (
    <label class="check-row">
      <input
        type="checkbox"
        checked={value.value}
        {...{ [`data-${data}`]: true }}
        onChange={(e) => value.value = e.currentTarget.checked}
      />
      {children}
    </label>
  );
}
