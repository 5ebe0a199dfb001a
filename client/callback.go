package client

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
)

// maxCallbackBody caps a form_post callback body.
const maxCallbackBody = 64 << 10

// ParseResponse reads the authorization response parameters from a callback
// request: the query of a GET (response_mode=query or query.jwt) or the form
// body of a POST (form_post or form_post.jwt). A parameter given twice is
// refused (RFC 6749 §3.1). Every other method is refused with an error
// wrapping ErrInvalidResponse, HEAD included: HEAD is a safe method (RFC
// 9110 §9.2.1, §9.3.2) that link checkers and prefetchers send, and it must
// not redeem the code that the user's own GET then needs.
//
// A JWT-secured response (JARM) is handed on as it came, its response
// parameter unverified: ParseResponse has no keys. [Client.Exchange]
// decrypts and verifies it ([Client.ResponseParams] shows how). A response
// parameter next to plain response parameters (code, state, iss, error, …)
// is refused with ErrInvalidResponse: they would travel inside the JWT.
func ParseResponse(r *http.Request) (url.Values, error) {
	if r == nil || r.URL == nil {
		return nil, fmt.Errorf("%w: callback: no request", ErrInvalidResponse)
	}
	var v url.Values
	switch r.Method {
	case http.MethodGet:
		var err error
		if v, err = url.ParseQuery(r.URL.RawQuery); err != nil {
			return nil, fmt.Errorf("%w: callback: %w", ErrInvalidResponse, err)
		}
	case http.MethodPost:
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "application/x-www-form-urlencoded" {
			return nil, fmt.Errorf("%w: callback: form_post with content type %q", ErrInvalidResponse, ct)
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxCallbackBody+1))
		if err != nil {
			return nil, fmt.Errorf("client: callback: %w", err)
		}
		if len(body) > maxCallbackBody {
			return nil, fmt.Errorf("%w: callback: body larger than 64 KiB", ErrInvalidResponse)
		}
		if v, err = url.ParseQuery(string(body)); err != nil {
			return nil, fmt.Errorf("%w: callback: %w", ErrInvalidResponse, err)
		}
	default:
		return nil, fmt.Errorf("%w: callback: method %.10q (want GET or POST)", ErrInvalidResponse, r.Method)
	}
	for k, vals := range v {
		if len(vals) > 1 {
			return nil, fmt.Errorf("%w: callback: parameter %q given %d times", ErrInvalidResponse, k, len(vals))
		}
	}
	if v.Has("response") {
		if err := checkResponseAlone(v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// checkCallback applies the RFC 9207, state and error checks; see the
// package documentation ("Error responses without iss") for the rule on
// error responses that lack iss.
func (c *Client) checkCallback(ctx context.Context, flow *Flow, params url.Values) error {
	// RFC 9700 §4.4: a flow started with another provider must not have its
	// code sent to this one's token endpoint (mix-up).
	if flow.Issuer != "" && flow.Issuer != c.issuer {
		return fmt.Errorf("%w: flow was started with issuer %q", ErrIssuerMismatch, flow.Issuer)
	}
	var authErr *AuthorizationError
	if e := params.Get("error"); e != "" {
		authErr = &AuthorizationError{Code: e, Description: params.Get("error_description"),
			URI: params.Get("error_uri"), State: params.Get("state")}
		// Before anything logs or returns it: no echo of what we sent.
		c.redactAuthorizationError(authErr, flow, params)
	}
	stateOK := flow.State != "" && subtle.ConstantTimeCompare([]byte(params.Get("state")), []byte(flow.State)) == 1
	if iss, ok := params["iss"]; ok {
		// A wrong iss is a mix-up refusal in every profile, error or not.
		if len(iss) != 1 || iss[0] != c.issuer {
			return ErrIssuerMismatch
		}
	} else if c.requireIss {
		missing := fmt.Errorf("%w: iss parameter missing (RFC 9207)", ErrIssuerMismatch)
		if authErr == nil || !stateOK {
			return missing // a success without iss is never accepted
		}
		// An error response of this flow without iss: no code, nothing to
		// steal; the provider's error stays reachable.
		if c.profile == ProfileBroker {
			c.log.LogAttrs(ctx, slog.LevelDebug, "client: callback: error response without iss (as the MitID broker answers)",
				slog.String("error", truncate(authErr.Code, 100)))
			return authErr
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "client: callback: error response without iss although the provider advertises RFC 9207",
			slog.String("error", truncate(authErr.Code, 100)))
		return errors.Join(authErr, missing)
	}
	if !stateOK {
		// Providers answer some errors without state (node-oidc-provider on
		// a reused request_uri): keep the provider's code reachable with
		// errors.As, while errors.Is(err, ErrStateMismatch) still holds.
		if authErr != nil {
			return errors.Join(ErrStateMismatch, authErr)
		}
		return ErrStateMismatch
	}
	if authErr != nil {
		return authErr
	}
	if params.Get("code") == "" {
		return ErrMissingCode
	}
	return nil
}
