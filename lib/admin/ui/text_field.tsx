/**
 * A labelled form input bound to a string signal, with an optional hint below it. Shared by the
 * admin dialogs and forms.
 *
 * @module
 */
import type { Signal } from "@preact/signals";
import type { JSX } from "preact";

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
