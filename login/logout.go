package login

import "net/http"

// Logout ends the session: it applies Start's method and origin checks
// (AllowGETLogout for GET), calls Config.OnLogout to end the app's session
// and fetch the ID token, and redirects to the provider's
// end_session_endpoint with id_token_hint and post_logout_redirect_uri
// (OIDC RP-Initiated Logout 1.0 §2). Without an ID token or an
// end_session_endpoint it redirects to PostLogoutRedirectURL, or "/".
func (h *Handler) Logout(w http.ResponseWriter, r *http.Request) {
	if h.onLogout == nil {
		http.NotFound(w, r)
		return
	}
	if err := h.checkRequest(w, r, h.getLogout); err != nil {
		h.fail(w, r, OpLogout, err)
		return
	}
	hint, err := h.onLogout(w, r)
	if err != nil {
		h.fail(w, r, OpLogout, err)
		return
	}
	target := h.postLogout
	if target == "" {
		target = "/"
	}
	if hint != "" && h.c.Metadata().EndSessionEndpoint != "" {
		if target, err = h.LogoutURL(hint); err != nil {
			h.fail(w, r, OpLogout, err)
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusSeeOther
	if r.Method == http.MethodGet {
		status = http.StatusFound
	}
	http.Redirect(w, r, target, status)
}

// LogoutURL returns the provider's RP-initiated logout URL (OIDC
// RP-Initiated Logout 1.0 §2) for idTokenHint, with
// Config.PostLogoutRedirectURL.
func (h *Handler) LogoutURL(idTokenHint string) (string, error) {
	return h.c.LogoutURL(idTokenHint, h.postLogout, "")
}
