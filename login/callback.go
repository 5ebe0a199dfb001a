package login

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/go-par/par/client"
)

// Callback completes a login at the redirect URI: it reads the
// authorization response (query or form_post; a JWT-secured one is
// verified first, client.Client.ResponseParams), takes the flow out of the
// Store by its state (single use: a replayed callback gets
// [ErrFlowNotFound]), checks that this browser started the flow, exchanges
// the code with client.Exchange (iss per RFC 9207, state, provider errors
// as [*client.AuthorizationError], PKCE, ID token and nonce), and hands the
// tokens to Config.OnLogin. Every failure goes to Config.OnError as an
// [*Error]; no tokens are handed out then.
//
// The response carries Cache-Control: no-store and Referrer-Policy:
// no-referrer (the callback URL holds the code); OnLogin may override them.
func (h *Handler) Callback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	ctx := r.Context()
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		// HEAD is safe (RFC 9110 §9.2.1): it must not use up the flow and
		// the code.
		w.Header().Set("Allow", "GET, POST")
		h.fail(w, r, OpCallback, fmt.Errorf("%w: %.10q", ErrMethodNotAllowed, r.Method))
		return
	}
	params, err := client.ParseResponse(r)
	if err != nil {
		h.fail(w, r, OpCallback, err)
		return
	}
	// A JWT-secured response (JARM) carries its state inside the JWT: it
	// is verified here, so that a forged one never uses up a flow, and
	// again by Exchange.
	inner, err := h.c.ResponseParams(ctx, params)
	if err != nil {
		h.fail(w, r, OpCallback, err)
		return
	}
	state := inner.Get("state")
	if state == "" {
		err := fmt.Errorf("%w: no state parameter", client.ErrStateMismatch)
		if code := inner.Get("error"); code != "" {
			// Providers answer some errors without state (a reused or
			// expired request_uri): keep their code reachable (R17), as
			// client.Exchange does.
			err = errors.Join(err, &client.AuthorizationError{Code: code,
				Description: inner.Get("error_description"), URI: inner.Get("error_uri")})
		}
		h.fail(w, r, OpCallback, err)
		return
	}
	flow, err := h.store.Take(ctx, w, r, state)
	if err != nil {
		h.fail(w, r, OpCallback, err)
		return
	}
	if h.bind {
		name := h.cookie.name("b", state)
		ck, cerr := r.Cookie(name)
		http.SetCookie(w, h.cookie.clear(name))
		if cerr != nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(bindValue(state))) != 1 {
			h.fail(w, r, OpCallback, ErrBrowserMismatch)
			return
		}
	}
	c, err := h.flowClient(flow)
	if err != nil {
		h.fail(w, r, OpCallback, err)
		return
	}
	tokens, err := c.Exchange(ctx, flow, params)
	if err != nil {
		h.fail(w, r, OpExchange, err)
		return
	}
	h.log.LogAttrs(ctx, slog.LevelDebug, "login: verified", slog.Any("tokens", tokens))
	if h.onFlow != nil {
		h.onFlow(w, r, flow, tokens)
		return
	}
	h.onLogin(w, r, tokens)
}
