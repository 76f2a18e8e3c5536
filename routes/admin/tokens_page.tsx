/**
 * The Tokens page: the `TokenManager` island with the tokens rendered on the server.
 *
 * @module
 */
import type { TokenListResponse } from "../../lib/admin/api_types.ts";
import { TokenManager } from "../../islands/token_manager.tsx";
import { AdminLayout } from "./layout.tsx";

/** Props of {@link TokensPage}. */
export interface TokensPageProps {
  basePath: string;
  csrfToken?: string;
  tokens: TokenListResponse | null;
  now: number;
}

/** The Tokens page. */
export function TokensPage(props: TokensPageProps) {
  return (
    <AdminLayout active="tokens" basePath={props.basePath} csrfToken={props.csrfToken}>
      <TokenManager initial={props.tokens} apiBase={`${props.basePath}/api`} serverNow={props.now} />
    </AdminLayout>
  );
}
