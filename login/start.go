package login

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/dpop"
)

// Start begins a login: it checks the request against CSRF (FAPI 2.0
// Security Profile §5.3.3.1 item 12), pushes the authorization request
// (RFC 9126 §2) with Config.PushOptions, saves the flow in the Store, and
// redirects the browser to the authorization URL (303 after POST, 302 after
// GET).
//
// Only POST is accepted by default, and only from the same origin: when
// the browser sends Sec-Fetch-Site or Origin they must say same-origin (or
// a TrustedOrigins entry), as [http.CrossOriginProtection] checks. With
// Config.AllowGETStart, GET is accepted when Sec-Fetch-Site is same-origin
// or none (typed or bookmarked), and never for a prefetch (Sec-Purpose).
// Refusals are [ErrMethodNotAllowed] (405) and [ErrCrossOrigin] (403).
// Then Config.StartLimits apply: a start over them is refused with
// [ErrRateLimited] (429, with Retry-After) before anything is pushed.
//
// When the request_uri has already expired by the time the URL is built
// (a slow push), Start pushes once more (RFC 9126 §4: a request_uri is never
// reused nor used after expiry); a second expiry is an error.
func (h *Handler) Start(w http.ResponseWriter, r *http.Request) {
	if err := h.checkRequest(w, r, h.getStart); err != nil {
		h.fail(w, r, OpStart, err)
		return
	}
	h.begin(w, r, nil)
}

// StartWith starts a login from one of the app's own handlers, with opts
// added after Config.PushOptions (a later value of a parameter wins): a
// step-up that a resource server asked for (RFC 9470 §4: acr_values,
// max_age, prompt=login), as package session does. The app has decided
// to start it, so there is no method or origin check, but the start limits
// apply; then it is Start: push, flow saved, and a redirect to the
// provider (302 after GET, 303 otherwise). Failures go to Config.OnError.
func (h *Handler) StartWith(w http.ResponseWriter, r *http.Request, opts ...client.Option) {
	h.begin(w, r, opts)
}

// begin is Start after its request checks.
func (h *Handler) begin(w http.ResponseWriter, r *http.Request, extra []client.Option) {
	if h.limit != nil {
		if wait, err := h.limit.allow(r, h.now()); err != nil {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			h.fail(w, r, OpStart, err)
			return
		}
	}
	ctx := r.Context()
	var opts []oauth2.AuthCodeOption
	if h.pushOpts != nil {
		opts = h.pushOpts(r)
	}
	opts = append(opts, extra...)
	c, key, err := h.loginClient()
	if err != nil {
		h.fail(w, r, OpStart, err)
		return
	}
	flow, authURL, err := h.push(r, c, opts)
	if err != nil {
		h.fail(w, r, OpStart, err)
		return
	}
	flow.DPoPKey = key
	now := h.now()
	expires := now.Add(h.lifetime)
	if err := h.store.Save(ctx, w, r, flow, expires); err != nil {
		h.fail(w, r, OpStart, err)
		return
	}
	if h.bind {
		http.SetCookie(w, h.cookie.cookie(h.cookie.name("b", flow.State), bindValue(flow.State), now, expires))
	}
	h.log.LogAttrs(ctx, slog.LevelDebug, "login: started", slog.Any("flow", flow))
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusSeeOther
	if r.Method == http.MethodGet {
		status = http.StatusFound
	}
	http.Redirect(w, r, authURL, status)
}

// loginClient returns the client a login pushes with: with DPoPPerLogin a
// copy with a fresh key, and that key (PKCS #8, base64url) for the flow.
func (h *Handler) loginClient() (*client.Client, string, error) {
	if !h.perLogin {
		return h.c, "", nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("login: dpop key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, "", fmt.Errorf("login: dpop key: %w", err)
	}
	p, err := dpop.NewProofer(key, &dpop.Config{Now: h.now})
	if err != nil {
		return nil, "", fmt.Errorf("login: dpop key: %w", err)
	}
	return h.c.WithDPoP(p), base64.RawURLEncoding.EncodeToString(der), nil
}

// flowClient returns the client that exchanges flow's code: one with the
// flow's own DPoP key when it has one (DPoPPerLogin), else the Handler's.
func (h *Handler) flowClient(flow *client.Flow) (*client.Client, error) {
	if flow.DPoPKey == "" {
		return h.c, nil
	}
	p, err := prooferFromKey(flow.DPoPKey, h.now)
	if err != nil {
		return nil, err
	}
	return h.c.WithDPoP(p), nil
}

// prooferFromKey returns a DPoP proofer for a key as DPoPPerLogin keeps it
// (client.Flow.DPoPKey: PKCS #8, base64url without padding), with now as its
// clock.
func prooferFromKey(key string, now func() time.Time) (*dpop.Proofer, error) {
	der, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil {
		return nil, errors.New("login: dpop key is not base64url")
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errors.New("login: dpop key is not a PKCS #8 private key")
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("login: dpop key of type %T cannot sign", k)
	}
	return dpop.NewProofer(signer, &dpop.Config{Now: now})
}

// push pushes and builds the authorization URL, pushing once more when the
// first request_uri expired before use.
func (h *Handler) push(r *http.Request, c *client.Client, opts []oauth2.AuthCodeOption) (*client.Flow, string, error) {
	ctx := r.Context()
	flow, err := c.Push(ctx, opts...)
	if err != nil {
		return nil, "", err
	}
	u, err := c.AuthorizationURL(flow)
	if errors.Is(err, client.ErrRequestURIExpired) {
		h.log.LogAttrs(ctx, slog.LevelDebug, "login: request_uri expired before redirect, pushing again",
			slog.Time("expires_at", flow.ExpiresAt))
		if flow, err = c.Push(ctx, opts...); err != nil {
			return nil, "", err
		}
		u, err = c.AuthorizationURL(flow)
	}
	if err != nil {
		return nil, "", err
	}
	return flow, u, nil
}
