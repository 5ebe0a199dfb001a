package mitid

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/go-par/par/internal/httpx"
)

// InitAuthParams are the optional members of the init-auth call.
type InitAuthParams struct {
	// RedirectURI replaces the broker's landing page at the end of the
	// browser flow; it receives State, and error / error_description on
	// failure (broker docs page ciba-par-oidc-integration).
	RedirectURI string
	State       string
}

// Authentication is the browser part of a CIBA→PAR flow.
type Authentication struct {
	// URI is the authentication_uri: the broker's authorization endpoint
	// with client_id and request_uri. Open it in the user's browser, on this
	// device or another (a QR code), then Poll.
	URI        string
	RequestURI string
	ExpiresAt  time.Time // now + expires_in of the request_uri
}

// InitAuth calls the broker's CIBA→PAR bridge for r, which pushes the
// authorization request and returns the URL the user opens
// (broker docs page ciba-par-oidc-integration). The members are requestId, redirectUri and
// state. The call authenticates as the client (form-encoded through the
// Client) unless InitAuthJSON is set; 200 and 201 are accepted, as the
// broker documents neither. authentication_uri must be on the origin of the
// broker's authorization endpoint.
func (c *CIBA) InitAuth(ctx context.Context, r *AuthRequest, p InitAuthParams) (*Authentication, error) {
	if r == nil || r.ID == "" {
		return nil, errors.New("mitid: ciba: init-auth: no auth request")
	}
	if !c.now().Before(r.ExpiresAt) {
		return nil, fmt.Errorf("%w (init-auth not sent)", ErrExpired)
	}
	if p.RedirectURI != "" {
		if u, err := url.Parse(p.RedirectURI); err != nil || !u.IsAbs() || u.Fragment != "" {
			return nil, paramErr("redirectUri", "must be an absolute URL without fragment")
		}
	}
	start := c.now()
	var (
		status int
		body   []byte
	)
	if c.initJSON {
		m := map[string]string{"requestId": r.ID}
		if p.RedirectURI != "" {
			m["redirectUri"] = p.RedirectURI
		}
		if p.State != "" {
			m["state"] = p.State
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, stepError("init-auth", err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.initURL, bytes.NewReader(b))
		if err != nil {
			return nil, stepError("init-auth", err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		if status, body, err = c.do(req, "init-auth", c.initURL, r.ID, p.State); err != nil {
			return nil, stepError("init-auth", err)
		}
	} else {
		form := url.Values{"requestId": {r.ID}}
		if p.RedirectURI != "" {
			form.Set("redirectUri", p.RedirectURI)
		}
		if p.State != "" {
			form.Set("state", p.State)
		}
		var err error
		if status, body, err = c.client.Post(ctx, c.initURL, form); err != nil {
			// The client redacts its credentials and the state; the
			// requestId is the broker's own member, unknown to it.
			return nil, stepError("init-auth", redactResponseError(err, r.ID, p.State))
		}
	}
	if status != http.StatusOK && status != http.StatusCreated {
		return nil, fmt.Errorf("%w: init-auth: HTTP %d instead of 200 or 201", ErrInvalidResponse, status)
	}
	var out struct {
		RequestURI        json.RawMessage `json:"request_uri"`
		ExpiresIn         json.RawMessage `json:"expires_in"`
		AuthenticationURI json.RawMessage `json:"authentication_uri"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("%w: init-auth: body is not a JSON object", ErrInvalidResponse)
	}
	a := &Authentication{}
	var ok bool
	if a.RequestURI, ok = jsonString(out.RequestURI); !ok || a.RequestURI == "" {
		return nil, fmt.Errorf("%w: init-auth: request_uri missing or not a string", ErrInvalidResponse)
	}
	expiresIn, ok := jsonInt(out.ExpiresIn)
	if !ok || expiresIn <= 0 {
		return nil, fmt.Errorf("%w: init-auth: expires_in must be a positive integer", ErrInvalidResponse)
	}
	a.ExpiresAt = start.Add(time.Duration(min(expiresIn, 24*3600)) * time.Second)
	if a.URI, ok = jsonString(out.AuthenticationURI); !ok {
		return nil, fmt.Errorf("%w: init-auth: authentication_uri missing or not a string", ErrInvalidResponse)
	}
	u, err := httpx.CheckEndpoint("authentication_uri", a.URI)
	if err != nil {
		return nil, fmt.Errorf("%w: init-auth: %w", ErrInvalidResponse, err)
	}
	if c.authOrigin != "" && u.Scheme+"://"+u.Host != c.authOrigin {
		return nil, fmt.Errorf("%w: init-auth: authentication_uri is not on the authorization endpoint's origin %s",
			ErrInvalidResponse, c.authOrigin)
	}
	if u.Query().Get("request_uri") != a.RequestURI {
		return nil, fmt.Errorf("%w: init-auth: authentication_uri does not carry the request_uri", ErrInvalidResponse)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "mitid: ciba: init-auth", slog.String("endpoint", c.initURL),
		slog.Int("status", status), slog.Int64("expires_in", expiresIn))
	return a, nil
}
